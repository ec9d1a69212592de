"""Baseline: the schema the dashboard created before it had migrations.

A database written by that version is stamped with this revision instead of running it.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iterations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, nullable=False, index=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("model_version", sa.String(120), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(40), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        *(sa.Column(name, sa.JSON, nullable=False) for name in ("settings", "counts", "metrics", "uncertainty")),
        sa.Column("timings", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("artifact_path", sa.Text, nullable=True),
        sa.Column("predictions_state", sa.String(20), nullable=False),
        sa.UniqueConstraint("project_id", "model_version"),
    )
    op.create_table(
        "eval_tasks",
        sa.Column("project_id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, primary_key=True),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, nullable=False, index=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_table(
        "automation",
        sa.Column("project_id", sa.Integer, primary_key=True),
        sa.Column("every", sa.Integer, nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("counted", sa.Integer, nullable=False),
        sa.Column("seen", sa.JSON, nullable=False),
    )
    op.create_table(
        "run_locks",
        sa.Column("project_id", sa.Integer, primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("acquired_at", sa.DateTime, nullable=False),
        sa.Column("heartbeat_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("run_locks", "automation", "events", "eval_tasks", "iterations"):
        op.drop_table(table)
