"""Tests for al_core.store.locks: one run at a time per project of one server, across processes; a crashed
holder's lock is recovered; another server's project of the same id is another lock."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

import pytest

from al_core.errors import IterationLocked
from al_core.store import locks
from al_core.store.history import History
from al_core.store.rows import LockRow, utcnow

LS, OTHER = "http://127.0.0.1:8080", "https://ls.example.com"


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(f"sqlite:///{tmp_path / 'history.db'}", server=LS)


def test_a_lock_is_held_until_released_and_says_who_holds_it(history: History) -> None:
    lock = locks.acquire(history._session, LS, 4, "the CLI")
    found = locks.holder(history._session, LS, 4)
    assert found is not None and (found.owner, found.pid, found.host) == ("the CLI", os.getpid(), socket.gethostname())
    with pytest.raises(IterationLocked, match=r"already running on project 4: started by the CLI at .* UTC"):
        locks.acquire(history._session, LS, 4, "the dashboard")
    first_beat = found.heartbeat_at
    lock.heartbeat()
    assert locks.holder(history._session, LS, 4).heartbeat_at >= first_beat  # type: ignore[union-attr]
    lock.release()
    assert locks.holder(history._session, LS, 4) is None
    locks.acquire(history._session, LS, 4, "the dashboard").release()


def test_another_servers_project_of_the_same_id_is_another_lock(history: History) -> None:
    mine = locks.acquire(history._session, LS, 4, "a run here")
    theirs = locks.acquire(history._session, OTHER, 4, "a run there")
    assert locks.holder(history._session, OTHER, 4).owner == "a run there"  # type: ignore[union-attr]
    theirs.release()
    assert locks.holder(history._session, LS, 4).owner == "a run here"  # type: ignore[union-attr]
    mine.release()


def test_a_crashed_holders_lock_is_recovered(history: History) -> None:
    dead_pid = 2**22 + 12345  # above Linux's default pid_max: no such process
    with history._session() as s:
        s.add(LockRow(server=LS, project_id=4, owner="a crashed run", host=socket.gethostname(), pid=dead_pid))
    locks.acquire(history._session, LS, 4, "the next run").release()
    silent = utcnow() - locks.STALE_LOCK_AFTER - timedelta(minutes=1)  # no heartbeat for too long, elsewhere
    with history._session() as s:
        s.add(LockRow(server=LS, project_id=4, owner="far away", host="elsewhere", pid=1, heartbeat_at=silent))
    locks.acquire(history._session, LS, 4, "the next run").release()
    assert locks.holder(history._session, LS, 4) is None
