"""Creates and upgrades the history database's schema with Alembic, safely from several processes at once.

The migrations live in ``migrations/versions``; ``upgrade`` runs them in code (no ``alembic.ini``). A database
written before the migrations existed (its tables there, no ``alembic_version``) is first stamped as the
baseline revision, which describes exactly that schema. The dashboard, the webhook receiver and the CLI may open
one database at the same moment: the upgrade runs in one transaction under a database-wide lock (SQLite's
``BEGIN IMMEDIATE``, a PostgreSQL advisory lock), so the second process waits and then finds nothing to do.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, inspect, text

from al_core.errors import HistoryUnavailable

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"  # the schema as the dashboard created it before migrations (``create_all``)
_PG_LOCK_KEY = 7_405_117  # any constant: the advisory lock that serialises upgrades on PostgreSQL


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head() -> str:
    """The newest schema revision this version of the code knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"No migrations found in {MIGRATIONS}.")
    return revision


def current(connection: Connection) -> str | None:
    """The database's schema revision (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database's schema to ``head()``; a no-op (one query) when it is there already.

    Raises:
        HistoryUnavailable: the database was written by a newer version of the dashboard.
    """
    with engine.connect() as connection:
        if current(connection) == head():
            return
    with engine.begin() as connection:
        _lock(connection)
        tables = set(inspect(connection).get_table_names())
        try:
            if "iterations" in tables and "alembic_version" not in tables:
                command.stamp(_config(connection), BASELINE)
            command.upgrade(_config(connection), "head")
        except CommandError as err:
            raise HistoryUnavailable(
                f"The history database has schema revision {current(connection)!r}, which this version of the "
                f"dashboard does not know (it knows up to {head()!r}): it was written by a newer version. "
                f"Update the dashboard, or point AL_DB_URL at another database. ({err})"
            ) from err


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # waits (busy_timeout) for another process's upgrade
    elif connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
