"""Tests for al_core.store.schema: databases are created and upgraded by the Alembic migrations when opened.

Migration 0005 (every row belongs to one Label Studio server) is tested here on a database written by the
version before it: its rows go to the server configured when the upgrade runs, or, with none configured, to the
first server that opens each project's history.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from al_core import settings
from al_core.errors import HistoryUnavailable
from al_core.store import reviews, schema
from al_core.store.history import History
from tests.unit.store.old_schema import write_database_before_servers

LS = "http://127.0.0.1:8080"  # the Label Studio server these histories belong to
OTHER = "https://ls.example.com"  # a second server sharing the database: its project 1 is another project
TABLES = ("iterations", "eval_tasks", "events", "automation", "run_locks")
OLD_VERSIONS = ["al-0001-n3", "al-0002-n45", "al-0003-n60", "al-0004", "al-0005"]


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str | None], None]:
    """``configured(url)``: the connection the upgrade finds (``None``: nothing configured anywhere)."""
    monkeypatch.setattr(settings, "PROJECT_ROOT", tmp_path / "repo")  # no real .streamlit/secrets.toml
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path / "data"))  # no local server's credentials

    def configure(url: str | None) -> None:
        if url is None:
            monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
            monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
        else:
            monkeypatch.setenv("LABEL_STUDIO_URL", url)
            monkeypatch.setenv("LABEL_STUDIO_API_KEY", "a-key")

    return configure


def test_a_new_database_is_created_at_the_newest_schema_revision(url: str) -> None:
    History(url, server=LS)
    History(url, server=LS)  # opening again changes nothing
    engine = create_engine(url)
    with engine.connect() as conn:
        assert schema.current(conn) == schema.head()
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert "step" in {c["name"] for c in inspect(conn).get_columns("iterations")}


def test_a_database_of_a_newer_version_is_refused_with_a_message(url: str) -> None:
    History(url, server=LS)
    with create_engine(url).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(HistoryUnavailable, match=r"schema revision '9999'.*written by a newer version"):
        History(url, server=LS)


def test_an_empty_database_file_gets_every_table(url: str) -> None:
    create_engine(url).connect().close()  # the file exists, without tables
    History(url, server=LS)
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


# -- migration 0005: a database written before servers were stored ------------------------------------------
def _servers(url: str) -> dict[str, set[str]]:
    """Each table's distinct ``server`` values."""
    with create_engine(url).connect() as conn:
        return {t: set(conn.execute(text(f"SELECT DISTINCT server FROM {t}")).scalars()) for t in TABLES}


def test_an_upgrade_attaches_the_rows_to_the_configured_server(url: str, configured) -> None:
    write_database_before_servers(url)
    configured(" HTTP://127.0.0.1:8080/ ")  # pasted as a person pastes it: the same server
    other = History(url, server=OTHER)  # whoever opens the database first, the configured server gets the rows
    assert all(found == {"http://127.0.0.1:8080"} for found in _servers(url).values())
    assert other.iterations(1) == [] and other.eval_set(1) == () and other.automation(1) is None
    assert other.events(1) == [] and other.lock_holder(1) is None

    mine = History(url, server=LS)
    assert [r.model_version for r in mine.iterations(1)] == OLD_VERSIONS
    assert all(r.server == "http://127.0.0.1:8080" for r in mine.iterations(1))
    assert mine.eval_set(1) == (3, 7, 11) and mine.events(1)[0].detail == {"to": "al-0002"}
    assert mine.automation(1).counted == 2 and mine.lock_holder(1).owner == "a run"  # type: ignore[union-attr]
    assert mine.start_iteration(1, 70, {}, "manual").model_version == "al-0006-n70"
    assert other.start_iteration(1, 5, {}, "manual").model_version == "al-0001-n5", "its own numbering"
    with create_engine(url).connect() as conn:
        assert schema.current(conn) == schema.head()


def test_without_a_configured_server_the_first_server_to_open_a_project_claims_it(url: str, configured) -> None:
    write_database_before_servers(url)
    configured(None)
    first = History(url, server=OTHER)
    assert all(found == {""} for found in _servers(url).values()), "unattached: nothing says which server wrote them"
    assert [r.model_version for r in first.iterations(1)] == OLD_VERSIONS  # the first to open project 1
    assert all(found == {OTHER} for found in _servers(url).values()), "every table's rows of project 1"
    second = History(url, server=LS)
    assert second.iterations(1) == [] and second.eval_set(1) == () and second.automation(1) is None
    assert first.eval_set(1) == (3, 7, 11) and first.automation(1).every == 7  # type: ignore[union-attr]


def test_a_server_with_rows_of_its_own_never_claims_unattached_ones(url: str, configured) -> None:
    write_database_before_servers(url)
    configured(None)
    History(url, server=OTHER)  # the upgrade: nothing attached, nothing claimed yet
    with create_engine(url).begin() as conn:  # LS's own project 1 (a claim now would merge two histories)
        conn.execute(text("INSERT INTO eval_tasks (server, project_id, task_id) VALUES (:s, 1, 99)"), {"s": LS})
    mine = History(url, server=LS)
    assert mine.eval_set(1) == (99,) and mine.iterations(1) == [] and mine.automation(1) is None
    assert _servers(url)["iterations"] == {""}, "left for the server they belong to"
    theirs = History(url, server=OTHER)
    assert [r.model_version for r in theirs.iterations(1)] == OLD_VERSIONS and theirs.eval_set(1) == (3, 7, 11)


def test_the_upgrade_keeps_every_row_and_the_keys_include_the_server(url: str, configured) -> None:
    write_database_before_servers(url)
    configured(LS)
    with create_engine(url).connect() as conn:
        before = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
    History(url, server=LS)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in before} == before
        keys = inspect(conn)
        assert keys.get_pk_constraint("eval_tasks")["constrained_columns"] == ["server", "project_id", "task_id"]
        assert keys.get_pk_constraint("automation")["constrained_columns"] == ["server", "project_id"]
        assert keys.get_pk_constraint("run_locks")["constrained_columns"] == ["server", "project_id"]
        (unique,) = keys.get_unique_constraints("iterations")
        assert unique["column_names"] == ["server", "project_id", "model_version"]


def test_a_database_at_the_released_0004_gets_the_servers_too(url: str, configured) -> None:
    """0004 (label reviews) was released revising 0002, before 0005: databases at 0004 must not skip 0005."""
    write_database_before_servers(url, revision="0004")
    with create_engine(url).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO label_reviews (server, project_id, task_id, label, reviewed_by, reviewed_at) "
                "VALUES (:s, 1, 3, 'card', 'ann', '2026-11-01 10:00:00')"
            ),
            {"s": "http://127.0.0.1:8080"},
        )
    configured(LS)
    mine = History(url, server=LS)
    assert [r.model_version for r in mine.iterations(1)] == OLD_VERSIONS and mine.eval_set(1) == (3, 7, 11)
    assert set(reviews.reviews(mine, 1)) == {3}
    with create_engine(url).connect() as conn:
        assert schema.current(conn) == schema.head() == "0005"
