"""The store's tests run against both databases the product supports: a SQLite file and a real PostgreSQL
server (``postgres_server`` in tests/conftest.py, started once per session; each test gets a new empty database).

They also open databases written by earlier versions: their upgrade attaches old rows to the server configured
then (migration 0005), so every test here has one configured, never the developer's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from al_core import settings

CONFIGURED = "http://127.0.0.1:8080"  # LS in the tests: the server the old rows were written with


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty history database's SQLAlchemy URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.db'}"
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture(autouse=True)
def configured_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(settings, "PROJECT_ROOT", tmp_path / "repo")  # no real .streamlit/secrets.toml
    monkeypatch.setenv("LABEL_STUDIO_URL", CONFIGURED)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "a-key")
