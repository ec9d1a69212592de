"""Every row belongs to one Label Studio server: a ``server`` column in every table, part of every key.

Project and task ids are only unique within one Label Studio server, and one history database may serve
several (the README allows switching ``LABEL_STUDIO_URL``): keyed by the project id alone, project 2 of a
second server inherited the first one's evaluation set, version numbering, run lock and automation. From this
revision on, an iteration's version name is unique per (server, project), the evaluation set, the automation
settings and the run lock are keyed by (server, project[, task]) and events carry their server.

Which server an existing row belongs to: the connection configured when the upgrade runs
(``settings.default_connection``: ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``, else
``.streamlit/secrets.toml``, else the credentials of the local server ``make run`` started). That is the
connection the history was written with unless it was switched since, and it is the same whichever process
(dashboard, receiver, CLI) happens to open the database first, which the connection of that process is not (a
dashboard tab may be connected to any server typed into it). When none is configured the rows stay unattached
(``server = ''``) and the first server that opens a project's history claims that project's rows
(``History``): the first reader is then the only evidence there is. A server that already has rows of that
project never claims unattached ones, so a claim never merges two servers' histories.

Rows that two servers already mixed under one project id (the bug this fixes) carry nothing to tell them apart:
they go together. The key is the server's normalized URL (``settings.server_key``), as the task and embedding
caches use it. The model artifacts of those rows stay where they were written (``artifacts/project-ID/VERSION``):
they are read for the server the rows belong to (``store.versions.saved_dir``), nothing is moved or lost.

Numbered 0005, after 0004 (the label reviews, released first): databases already at 0004 get it too.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from al_core.errors import ALError
from al_core.settings import default_connection, server_key

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SERVER_LENGTH = 500
UNATTACHED = ""
TABLES = ("iterations", "eval_tasks", "events", "automation", "run_locks")
# The keys before and after this revision: primary keys of the tables without an id, and the unique version name.
PRIMARY_KEYS = {
    "eval_tasks": (["project_id", "task_id"], ["server", "project_id", "task_id"]),
    "automation": (["project_id"], ["server", "project_id"]),
    "run_locks": (["project_id"], ["server", "project_id"]),
}
VERSION_KEY = (["project_id", "model_version"], ["server", "project_id", "model_version"])
VERSION_KEY_NAME = "uq_iterations_server_version"
EVENTS_INDEX = "ix_events_server_project"
# SQLite keeps the baseline's constraints unnamed: in a batch (a copy of the table) they get these names.
_UNNAMED = {"uq": "uq_%(table_name)s_%(column_0_name)s", "pk": "pk_%(table_name)s"}


def configured_server() -> str:
    """The server key of the configured connection, or ``''`` (unattached) when none is configured."""
    try:
        connection = default_connection()
    except (ALError, OSError, ValueError, KeyError):  # an unreadable secrets file or credentials file
        return UNATTACHED
    return server_key(connection.url) if connection is not None else UNATTACHED


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("server", sa.String(SERVER_LENGTH), nullable=False, server_default=UNATTACHED))
    server = configured_server()
    if server:
        bind = op.get_bind()
        for table in TABLES:
            bind.execute(sa.table(table, sa.column("server", sa.String)).update().values(server=server))
    _replace_version_key(*VERSION_KEY)
    for table, (old, new) in PRIMARY_KEYS.items():
        _replace_primary_key(table, old, new)
    op.create_index(EVENTS_INDEX, "events", ["server", "project_id"])


def downgrade() -> None:
    """Back to keys of the project id alone: refused by those keys when two servers share a project id."""
    op.drop_index(EVENTS_INDEX, table_name="events")
    for table, (old, new) in PRIMARY_KEYS.items():
        _replace_primary_key(table, new, old)
    _replace_version_key(*VERSION_KEY[::-1], name=None)
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("server")


def _replace_version_key(old: list[str], new: list[str], name: str | None = VERSION_KEY_NAME) -> None:
    found = next(
        (c for c in sa.inspect(op.get_bind()).get_unique_constraints("iterations") if c["column_names"] == old), None
    )
    with op.batch_alter_table("iterations", naming_convention=_UNNAMED) as batch:
        if found is not None:
            batch.drop_constraint(found["name"] or f"uq_iterations_{old[0]}", type_="unique")
        batch.create_unique_constraint(name or f"uq_iterations_{new[0]}", new)


def _replace_primary_key(table: str, old: list[str], new: list[str]) -> None:
    key = sa.inspect(op.get_bind()).get_pk_constraint(table)
    assert key["constrained_columns"] == old, (table, key)
    name = key["name"] or f"pk_{table}"
    with op.batch_alter_table(table, naming_convention=_UNNAMED) as batch:
        batch.drop_constraint(name, type_="primary")
        batch.create_primary_key(name, new)
