"""The store's tests run against both databases the product supports: a SQLite file and a real PostgreSQL
server (``postgres_server`` in tests/conftest.py, started once per session; each test gets a new empty database)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty history database's SQLAlchemy URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.db'}"
    return request.getfixturevalue("postgres_server").new_database()
