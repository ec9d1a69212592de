"""Label Studio's own SQLite database, opened by tests to provoke and to observe its write lock on purpose.

What Label Studio 1.23.2 does on a lock (read in ``core/middleware.py`` and measured on the test server):
- a writer waits 5 s for the lock (SQLite's busy timeout), then fails with "database is locked";
- when that happens inside an API view, ``DatabaseIsLockedRetryMiddleware`` runs the whole request again, up to
  15 times over ~15 minutes, so a token client (our gateway) usually sees a slow answer, not a refusal;
- that retry passes ``InactivitySessionTimeoutMiddleWare``, which creates the organization's session-timeout
  policy row when it is missing (a server nobody has logged in to with a browser); a lock there is outside the
  view, is not retried, and the client gets the 500 error page. Within ``allow_refusals`` that row is missing, so a
  locked write is refused within seconds instead of after a quarter of an hour: the refusal the issue
  reports, on purpose, whatever the machine's load. Label Studio re-creates the row on demand.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from al_core.labelstudio.local_server import LocalServer


def database(server: LocalServer) -> Path:
    """The SQLite file of a Label Studio started by ``start_local_server``."""
    db = server.log_path.parent / "label_studio.sqlite3"
    if not db.is_file():
        raise FileNotFoundError(f"Label Studio's SQLite database is not at {db}")
    return db


@contextmanager
def write_lock(db: Path, until: threading.Event, max_seconds: float = 60) -> Iterator[None]:
    """Hold the database's write lock (``BEGIN IMMEDIATE``) from the start of the block until ``until`` is set, at
    most ``max_seconds``; released from a background thread, so the block can wait for Label Studio meanwhile."""
    conn = sqlite3.connect(db, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    release = threading.Thread(target=lambda: (until.wait(max_seconds), conn.execute("COMMIT")))
    release.start()
    try:
        yield
    finally:
        until.set()
        release.join()
        conn.close()


def writer_must_wait(db: Path) -> bool:
    """Whether a writer would have to wait right now (someone holds the write lock): tries ``BEGIN IMMEDIATE``
    without waiting, and rolls it back at once."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as err:
        if "locked" not in str(err):
            raise
        return True
    finally:
        conn.close()


@contextmanager
def allow_refusals(db: Path) -> Iterator[None]:
    """Within the block, a locked write is refused (HTTP 500) rather than retried by Label Studio (see the module):
    the organizations' session-timeout policy rows are removed, and put back afterwards unless Label Studio has
    re-created them meanwhile (so later tests meet the server as it was)."""
    table = "session_policy_sessiontimeoutpolicy"
    with sqlite3.connect(db, timeout=30) as conn:
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        saved = conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
        conn.execute(f"DELETE FROM {table}")
    try:
        yield
    finally:
        with sqlite3.connect(db, timeout=30) as conn:
            if not conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]:
                marks = ", ".join("?" * len(columns))
                conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", saved)


def log_mark(server: LocalServer) -> int:
    """Where the server's log ends now (``locked_since`` reads from there)."""
    return server.log_path.stat().st_size


def locked_since(server: LocalServer, mark: int) -> int:
    """How many "database is locked" errors the server logged after ``mark``."""
    with open(server.log_path, "rb") as fh:
        fh.seek(mark)
        return fh.read().count(b"OperationalError: database is locked")
