"""A running iteration's current step (a column); the multi-label flag in every iteration's counts.

Iterations written before the engine stored ``counts.multi_label`` get it here, once, from what they measured:
a multi-label version's confusion rows are ``(tn, fp, fn, tp)`` per label, each summing to the evaluation
size, and its predicted label sets were stored joined with ``|``. Rows that measured nothing stay unknown.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_iterations = sa.table(
    "iterations",
    sa.column("id", sa.Integer),
    sa.column("counts", sa.JSON),
    sa.column("metrics", sa.JSON),
    sa.column("uncertainty", sa.JSON),
)


def upgrade() -> None:
    with op.batch_alter_table("iterations") as batch:
        batch.add_column(sa.Column("step", sa.String(40), nullable=True))
    bind = op.get_bind()
    for row in bind.execute(sa.select(_iterations)).all():
        counts = dict(row.counts) if isinstance(row.counts, Mapping) else {}
        if "multi_label" in counts:
            continue
        flag = _measured_multi_label(row.metrics, row.uncertainty)
        if flag is not None:
            bind.execute(
                _iterations.update().where(_iterations.c.id == row.id).values(counts={**counts, "multi_label": flag})
            )


def _measured_multi_label(metrics: Any, uncertainty: Any) -> bool | None:
    metrics = metrics if isinstance(metrics, Mapping) else {}
    uncertainty = uncertainty if isinstance(uncertainty, Mapping) else {}
    labels, confusion, n_eval = metrics.get("labels") or [], metrics.get("confusion") or [], metrics.get("n_eval")
    predicted = uncertainty.get("predicted_class_counts")
    predicted = predicted if isinstance(predicted, Mapping) else {}
    if labels and confusion and isinstance(n_eval, int):
        per_label = len(labels) >= 2 and all(isinstance(r, list) and len(r) == 4 for r in confusion)
        return per_label and sum(sum(r) for r in confusion) == len(labels) * n_eval
    if predicted:
        known = set(labels) | set((metrics.get("train_class_counts") or {}).keys())
        return any("|" in key and key not in known for key in predicted)
    return None


def downgrade() -> None:
    with op.batch_alter_table("iterations") as batch:
        batch.drop_column("step")
