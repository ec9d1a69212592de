"""Tests for al_core.store.reviews: reviewed label issues, per server and project, kept across processes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from al_core.store import reviews, schema
from al_core.store.history import History


def test_reviews_are_stored_per_server_and_project_and_replace_each_other(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    history, other = History(url, server="http://ls:8080/"), History(url, server="http://other:8080")
    reviews.mark_reviewed(history, 1, 10, "billing", by="ann@example.com")
    reviews.mark_reviewed(history, 1, 11, "card")
    reviews.mark_reviewed(other, 1, 10, "card")  # another server's project 1
    reviews.mark_reviewed(history, 2, 10, "card")
    reviews.mark_reviewed(history, 1, 11, "transfer")  # reviewed again under a new label

    found = History(url, server=" http://ls:8080")  # another process reading the same database, the URL as pasted
    mine = reviews.reviews(found, 1)
    assert {tid: r.label for tid, r in mine.items()} == {10: "billing", 11: "transfer"}
    assert mine[10].reviewed_by == "ann@example.com" and mine[10].reviewed_at is not None
    assert {tid: r.label for tid, r in reviews.reviews(History(url, server="http://other:8080/"), 1).items()} == {
        10: "card"
    }

    assert reviews.unmark(found, 1, 10) is True
    assert reviews.unmark(found, 1, 10) is False
    assert set(reviews.reviews(found, 1)) == {11}
    with create_engine(url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == schema.head()
