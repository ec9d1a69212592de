"""Tests for al_core.store.schema: databases are created and upgraded by the Alembic migrations when opened."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from al_core.errors import HistoryUnavailable
from al_core.store import schema
from al_core.store.history import History


def test_a_new_database_is_created_at_the_newest_schema_revision(url: str) -> None:
    History(url)
    History(url)  # opening again changes nothing
    engine = create_engine(url)
    with engine.connect() as conn:
        assert schema.current(conn) == schema.head()
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert "step" in {c["name"] for c in inspect(conn).get_columns("iterations")}


def test_a_database_of_a_newer_version_is_refused_with_a_message(url: str) -> None:
    History(url)
    with create_engine(url).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(HistoryUnavailable, match=r"schema revision '9999'.*written by a newer version"):
        History(url)


def test_an_empty_database_file_gets_every_table(url: str) -> None:
    create_engine(url).connect().close()  # the file exists, without tables
    History(url)
    tables = set(inspect(create_engine(url)).get_table_names())
    assert tables == {
        "alembic_version",
        "iterations",
        "eval_tasks",
        "events",
        "automation",
        "run_locks",
        "label_reviews",
    }
