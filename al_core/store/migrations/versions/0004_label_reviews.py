"""The label_reviews table: likely label errors a person marked as reviewed (the Label issues page).

Keyed by server from the start: one database may hold several Label Studio servers' projects (revision 0005
keys the older tables the same way). Released revising 0002: a released revision's place in the chain never
changes, or databases already at it would skip what was inserted before it.

Revision ID: 0004
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "label_reviews",
        sa.Column("server", sa.String(300), primary_key=True),
        sa.Column("project_id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("reviewed_by", sa.String(200), nullable=False),
        sa.Column("reviewed_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("label_reviews")
