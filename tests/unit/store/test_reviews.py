"""Tests for al_core.store.reviews: reviewed label issues, per server and project, kept across processes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from al_core.store import reviews
from al_core.store.history import History


def test_reviews_are_stored_per_server_and_project_and_replace_each_other(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    history = History(url)
    reviews.mark_reviewed(history, "http://ls:8080/", 1, 10, "billing", by="ann@example.com")
    reviews.mark_reviewed(history, "http://ls:8080", 1, 11, "card")
    reviews.mark_reviewed(history, "http://other:8080", 1, 10, "card")  # another server's project 1
    reviews.mark_reviewed(history, "http://ls:8080", 2, 10, "card")
    reviews.mark_reviewed(history, "http://ls:8080", 1, 11, "transfer")  # reviewed again under a new label

    found = History(url)  # another process reading the same database
    mine = reviews.reviews(found, "http://ls:8080", 1)
    assert {tid: r.label for tid, r in mine.items()} == {10: "billing", 11: "transfer"}
    assert mine[10].reviewed_by == "ann@example.com" and mine[10].reviewed_at is not None
    assert {tid: r.label for tid, r in reviews.reviews(found, "http://other:8080/", 1).items()} == {10: "card"}

    assert reviews.unmark(found, "http://ls:8080", 1, 10) is True
    assert reviews.unmark(found, "http://ls:8080", 1, 10) is False
    assert set(reviews.reviews(found, "http://ls:8080", 1)) == {11}
    with create_engine(url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
