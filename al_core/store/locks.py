"""The run lock of one project of one Label Studio server, across processes: one row in ``run_locks`` per
(server, project) that a run holds (``History.run_lock``). A holder that crashed is recovered: its lock is
stale when it sent no heartbeat for 15 minutes, or at once when its process is gone from this host.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from al_core.errors import IterationLocked
from al_core.store.rows import LockRow, utcnow

STALE_LOCK_AFTER = timedelta(minutes=15)  # no heartbeat for this long: the holder is gone
Sessions = Callable[[], AbstractContextManager[Session]]  # a transaction of the history database per call


@dataclass(frozen=True)
class LockHolder:
    """Who holds a project's run lock: ``owner`` (who started the run), its host and process, since when (UTC)
    and its last heartbeat (UTC; a lock without one for 15 minutes is stale)."""

    project_id: int
    owner: str
    host: str
    pid: int
    acquired_at: datetime
    heartbeat_at: datetime


class RunLock:
    """A held run lock: ``heartbeat`` keeps it fresh during a long run, ``release`` gives it back."""

    def __init__(self, sessions: Sessions, server: str, project_id: int) -> None:
        self._sessions, self._key, self.project_id, self._pid = sessions, (server, project_id), project_id, os.getpid()

    def heartbeat(self) -> None:
        with self._sessions() as s:
            row = s.get(LockRow, self._key)
            if row is not None and row.pid == self._pid:
                row.heartbeat_at = utcnow()

    def release(self) -> None:
        with self._sessions() as s:
            s.execute(delete(LockRow).where(*_mine(*self._key), LockRow.pid == self._pid))


def acquire(sessions: Sessions, server: str, project_id: int, owner: str) -> RunLock:
    """Take the lock of ``server``'s project for this process.

    Raises:
        IterationLocked: another live run holds it; the message says who and since when.
    """
    host, pid = socket.gethostname(), os.getpid()
    for _ in range(3):
        try:
            with sessions() as s:
                s.add(LockRow(server=server, project_id=project_id, owner=owner, host=host, pid=pid))
            return RunLock(sessions, server, project_id)
        except IntegrityError:
            found = holder(sessions, server, project_id)
            if found is None:
                continue
            if not _is_stale(found, host):
                since = found.acquired_at.strftime("%Y-%m-%d %H:%M:%S UTC")
                raise IterationLocked(
                    f"An iteration is already running on project {project_id}: started by {found.owner} "
                    f"at {since}. Wait for it to finish; its result will appear in the history."
                ) from None
            with sessions() as s:  # recover a crashed holder's lock
                s.execute(delete(LockRow).where(*_mine(server, project_id), LockRow.pid == found.pid))
    raise IterationLocked(f"Could not take the run lock of project {project_id}; try again.")


def holder(sessions: Sessions, server: str, project_id: int) -> LockHolder | None:
    """Who holds the lock of ``server``'s project, or None."""
    with sessions() as s:
        row = s.get(LockRow, (server, project_id))
        if row is None:
            return None
        return LockHolder(row.project_id, row.owner, row.host, row.pid, row.acquired_at, row.heartbeat_at)


def _mine(server: str, project_id: int) -> tuple:
    return LockRow.server == server, LockRow.project_id == project_id


def _is_stale(found: LockHolder, host: str) -> bool:
    if utcnow() - found.heartbeat_at > STALE_LOCK_AFTER:
        return True
    if found.host == host and found.pid != os.getpid():
        try:
            os.kill(found.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False
