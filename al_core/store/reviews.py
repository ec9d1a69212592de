"""Likely label errors a person has reviewed, per Label Studio server and project (the ``label_reviews`` table;
the server is the ``History``'s own).

A review hides a task from the Label issues page and ``label-issues`` while the task keeps the label it had when
reviewed: relabeled since, it is a new question and shows again if the model still doubts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from al_core.store.history import History
from al_core.store.rows import ReviewRow, utcnow


@dataclass(frozen=True)
class Review:
    """One reviewed task: its ``label`` when reviewed (several joined with ``|``), who and when (UTC)."""

    task_id: int
    label: str
    reviewed_by: str
    reviewed_at: datetime


def reviews(history: History, project_id: int) -> dict[int, Review]:
    """Task id -> its review, for one project of the history's server. Raises HistoryUnavailable."""
    with history._session() as s:  # the store's own session: same package, same database
        rows = s.scalars(
            select(ReviewRow).where(ReviewRow.server == history.server, ReviewRow.project_id == project_id)
        )
        return {r.task_id: Review(r.task_id, r.label, r.reviewed_by, r.reviewed_at) for r in rows}


def mark_reviewed(history: History, project_id: int, task_id: int, label: str, by: str = "") -> None:
    """Record that ``task_id`` was reviewed while labeled ``label`` (again: the newer review replaces it)."""
    with history._session() as s:
        row = s.get(ReviewRow, (history.server, project_id, task_id))
        if row is None:
            row = ReviewRow(server=history.server, project_id=project_id, task_id=task_id)
            s.add(row)
        row.label, row.reviewed_by, row.reviewed_at = label, by[:200], utcnow()


def unmark(history: History, project_id: int, task_id: int) -> bool:
    """Forget a review (the task shows again); returns whether there was one."""
    with history._session() as s:
        done = s.execute(
            delete(ReviewRow).where(
                ReviewRow.server == history.server,
                ReviewRow.project_id == project_id,
                ReviewRow.task_id == task_id,
            )
        )
        return bool(done.rowcount)
