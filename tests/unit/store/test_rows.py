"""Tests for al_core.store.rows: the ORM rows map exactly the schema the migrations build."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from al_core.store.history import History
from al_core.store.rows import Base
from tests.unit.store.old_schema import write_old_database

LS = "http://127.0.0.1:8080"  # the Label Studio server these histories belong to


@pytest.mark.parametrize("old", [False, True], ids=["new", "previous-version"])
def test_the_migrated_schema_is_the_one_the_store_maps(url: str, old: bool) -> None:
    if old:
        write_old_database(url)
    History(url, server=LS)
    with create_engine(url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []  # rows.py and the migrations agree
