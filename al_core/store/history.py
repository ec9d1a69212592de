"""The history store: every iteration, the evaluation sets, events, automation settings and the per-project
run lock. SQLAlchemy; a SQLite file under ``.data/`` by default, any SQLAlchemy URL via ``AL_DB_URL``.

Everything the dashboard shows comes from here and from Label Studio, never from one browser's session,
so teammates see the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from al_core.errors import HistoryUnavailable, IterationLocked
from al_core.progress import Progress
from al_core.store import schema
from al_core.store.records import AutomationRecord, IterationRecord, StoredSettings
from al_core.store.rows import AutomationRow, EvalTaskRow, EventRow, IterationRow, LockRow, utcnow

STALE_LOCK_AFTER = timedelta(minutes=15)  # no heartbeat for this long: the holder is gone


@dataclass(frozen=True)
class Event:
    project_id: int
    at: datetime
    kind: str
    detail: dict[str, Any]


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


class History:
    """Access to the history database. Safe to share between threads; one per process is enough."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            args = {"timeout": 30, "check_same_thread": False} if url.startswith("sqlite") else {}
            self._engine = create_engine(url, connect_args=args, pool_pre_ping=True)
            if url.startswith("sqlite"):
                event.listen(self._engine, "connect", _sqlite_pragmas)
            schema.upgrade(self._engine)
        except (SQLAlchemyError, OSError) as err:
            raise HistoryUnavailable(_unavailable(url, err)) from err
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except IntegrityError:
            raise
        except OperationalError as err:
            raise HistoryUnavailable(_unavailable(self.url, err)) from err

    # -- iterations --------------------------------------------------------------------------------
    def start_iteration(
        self, project_id: int, n_labeled: int | None, settings: dict[str, Any] | StoredSettings, trigger: str
    ) -> IterationRecord:
        """Create a 'running' iteration with the next unique, sortable version name (``al-0007-n350``).

        ``n_labeled`` is None when the labels are not read yet (the version is then ``al-0007`` until
        ``name_version``); ``settings`` are the ``IterationSettings`` as a dict (or a ``StoredSettings``).
        """
        with self._session() as s:
            last = s.scalar(
                select(IterationRow.number)
                .where(IterationRow.project_id == project_id)
                .order_by(IterationRow.number.desc())
                .limit(1)
            )
            number = (last or 0) + 1
            row = IterationRow(
                project_id=project_id,
                number=number,
                model_version=f"al-{number:04d}" if n_labeled is None else f"al-{number:04d}-n{n_labeled}",
                status="running",
                trigger=trigger,
                settings=_jsonable(settings),
                counts={} if n_labeled is None else {"n_labeled": int(n_labeled)},
                metrics={},
                uncertainty={},
                timings={},
                predictions_state="none",
            )
            s.add(row)
            s.flush()
            return _normalized(row)

    def finish_iteration(self, iteration_id: int, *, status: str, **fields: Any) -> IterationRecord:
        """Record an iteration's outcome: ``status`` (``succeeded`` or ``failed``) and any stored column.

        ``counts``, ``metrics``, ``uncertainty``, ``settings`` and ``timings`` may be the plain dicts the engine
        builds or the typed records; either way they are stored as their typed record reads them (unknown
        keys kept, values that are not numbers dropped). Calling it again updates the given columns only.

        Raises:
            HistoryUnavailable: the iteration is missing or the database cannot be written.
            TypeError: ``fields`` names no stored column.
        """
        unknown = sorted(set(fields) - _WRITABLE)
        if unknown:
            raise TypeError(f"finish_iteration() got unknown fields {unknown}; stored fields: {sorted(_WRITABLE)}.")
        with self._session() as s:
            row = s.get(IterationRow, iteration_id)
            if row is None:
                raise HistoryUnavailable(f"Iteration {iteration_id} is missing from the history database {self.url}.")
            row.status, row.finished_at = status, utcnow()
            for key, value in fields.items():
                setattr(row, key, _jsonable(value))
            return _normalized(row)

    def discard_iteration(self, iteration_id: int) -> bool:
        """Delete a still-running iteration that made nothing (e.g. skipped: no new labels), so no reader ever
        sees it and its number goes to the next run. Returns whether it was deleted; a finished one is kept."""
        with self._session() as s:
            row = s.get(IterationRow, iteration_id)
            if row is None or row.status != "running":
                return False
            s.delete(row)
            return True

    def set_step(self, iteration_id: int, step: str) -> None:
        """Say which step a running iteration is on (shown as "running since ..., step ...")."""
        with self._session() as s:
            row = s.get(IterationRow, iteration_id)
            if row is not None and row.status == "running":
                row.step = step[:40]

    def step_recorder(self, iteration_id: int, forward: Progress | None = None) -> Progress:
        """A progress callback that records each new step of the iteration, then calls ``forward``."""
        last: list[str] = []

        def report(step: str, fraction: float, message: str) -> None:
            if last[-1:] != [step]:
                last.append(step)
                self.set_step(iteration_id, step)
            if forward is not None:
                forward(step, fraction, message)

        return report

    def name_version(self, iteration_id: int, version: str) -> None:
        """Give a running iteration its final version name (before any prediction carries it)."""
        with self._session() as s:
            row = s.get(IterationRow, iteration_id)
            if row is not None:
                row.model_version = version

    def set_predictions_state(self, project_id: int, version: str, state: str) -> None:
        with self._session() as s:
            row = s.scalar(
                select(IterationRow).where(IterationRow.project_id == project_id, IterationRow.model_version == version)
            )
            if row is not None:
                row.predictions_state = state

    def iterations(self, project_id: int) -> list[IterationRecord]:
        """All iterations of a project, oldest first."""
        with self._session() as s:
            rows = s.scalars(
                select(IterationRow).where(IterationRow.project_id == project_id).order_by(IterationRow.number)
            )
            return [_record(r) for r in rows]

    def last_change(self, project_id: int) -> str:
        """A short text that changes whenever an iteration of the project starts, moves to another step, is
        named, finishes or has its predictions pruned: a cache key for what is built from ``iterations``
        (reads a few small columns, not the stored JSON)."""
        columns = (IterationRow.id, IterationRow.status, IterationRow.model_version, IterationRow.step)
        columns += (IterationRow.finished_at, IterationRow.predictions_state)
        with self._session() as s:
            rows = s.execute(select(*columns).where(IterationRow.project_id == project_id)).all()
        digest = hashlib.blake2b(repr(sorted(tuple(r) for r in rows)).encode(), digest_size=12).hexdigest()
        return f"{len(rows)}-{digest}"

    def succeeded(self, project_id: int) -> list[IterationRecord]:
        return [it for it in self.iterations(project_id) if it.status == "succeeded"]

    def get_iteration(self, project_id: int, version: str) -> IterationRecord | None:
        return next((it for it in self.iterations(project_id) if it.model_version == version), None)

    # -- evaluation set ----------------------------------------------------------------------------
    def eval_set(self, project_id: int) -> tuple[int, ...]:
        with self._session() as s:
            ids = s.scalars(select(EvalTaskRow.task_id).where(EvalTaskRow.project_id == project_id))
            return tuple(sorted(ids))

    def save_eval_set(self, project_id: int, task_ids: Sequence[int]) -> None:
        """Record the evaluation set once; it never changes afterwards (its labels are never trained on)."""
        with self._session() as s:
            if s.scalar(select(EvalTaskRow.task_id).where(EvalTaskRow.project_id == project_id).limit(1)) is not None:
                return
            s.add_all(EvalTaskRow(project_id=project_id, task_id=int(t)) for t in task_ids)

    # -- events ------------------------------------------------------------------------------------
    def add_event(self, project_id: int, kind: str, detail: dict[str, Any]) -> None:
        with self._session() as s:
            s.add(EventRow(project_id=project_id, kind=kind, detail=_jsonable(detail)))

    def events(self, project_id: int, kind: str | None = None, limit: int = 50) -> list[Event]:
        with self._session() as s:
            q = select(EventRow).where(EventRow.project_id == project_id)
            if kind:
                q = q.where(EventRow.kind == kind)
            rows = s.scalars(q.order_by(EventRow.id.desc()).limit(limit))
            return [Event(r.project_id, r.at, r.kind, r.detail) for r in rows]

    # -- automation --------------------------------------------------------------------------------
    def automation(self, project_id: int) -> AutomationRecord | None:
        """The project's automation settings and counter, or None when automation was never set up."""
        with self._session() as s:
            row = s.get(AutomationRow, project_id)
            if row is None:
                return None
            return AutomationRecord(row.project_id, row.every, dict(row.settings or {}), row.counted or 0)

    def save_automation(self, project_id: int, *, every: int, settings: dict[str, Any]) -> None:
        with self._session() as s:
            row = s.get(AutomationRow, project_id) or AutomationRow(project_id=project_id, counted=0, seen=[])
            row.every, row.settings = every, settings
            s.add(row)

    def count_annotation(self, project_id: int, annotation_id: int, default_every: int) -> tuple[int, int, bool]:
        """Count one new annotation (duplicates ignored). Returns (counted, every, was_new)."""
        with self._session() as s:
            row = s.get(AutomationRow, project_id)
            if row is None:
                row = AutomationRow(project_id=project_id, every=default_every, settings={}, counted=0, seen=[])
                s.add(row)
            seen = list(row.seen or [])
            if annotation_id in seen:
                return row.counted, row.every, False
            row.seen = (seen + [annotation_id])[-5000:]
            row.counted = (row.counted or 0) + 1
            return row.counted, row.every, True

    def count_back(self, project_id: int, n: int) -> None:
        """Return ``n`` taken annotations to the counter (their run failed)."""
        with self._session() as s:
            row = s.get(AutomationRow, project_id)
            if row is not None:
                row.counted = (row.counted or 0) + n

    def take_counted(self, project_id: int) -> int:
        """Reset the counter when a run starts; annotations arriving during the run count toward the next."""
        with self._session() as s:
            row = s.get(AutomationRow, project_id)
            if row is None:
                return 0
            taken, row.counted = row.counted, 0
            return taken

    # -- the per-project run lock ------------------------------------------------------------------
    @contextmanager
    def run_lock(self, project_id: int, owner: str) -> Iterator[RunLock]:
        """Hold the project's run lock (across processes) for the duration of the block.

        Raises:
            IterationLocked: another live run holds it; the message says who and since when.
        """
        lock = self._acquire(project_id, owner)
        try:
            yield lock
        finally:
            lock.release()

    def _acquire(self, project_id: int, owner: str) -> RunLock:
        host, pid = socket.gethostname(), os.getpid()
        for _ in range(3):
            try:
                with self._session() as s:
                    s.add(LockRow(project_id=project_id, owner=owner, host=host, pid=pid))
                return RunLock(self, project_id)
            except IntegrityError:
                holder = self.lock_holder(project_id)
                if holder is None:
                    continue
                if not _is_stale(holder, host):
                    since = holder.acquired_at.strftime("%Y-%m-%d %H:%M:%S UTC")
                    raise IterationLocked(
                        f"An iteration is already running on project {project_id}: started by {holder.owner} "
                        f"at {since}. Wait for it to finish; its result will appear in the history."
                    ) from None
                with self._session() as s:  # recover a crashed holder's lock
                    s.execute(delete(LockRow).where(LockRow.project_id == project_id, LockRow.pid == holder.pid))
        raise IterationLocked(f"Could not take the run lock of project {project_id}; try again.")

    def lock_holder(self, project_id: int) -> LockHolder | None:
        with self._session() as s:
            row = s.get(LockRow, project_id)
            if row is None:
                return None
            return LockHolder(row.project_id, row.owner, row.host, row.pid, row.acquired_at, row.heartbeat_at)


class RunLock:
    def __init__(self, history: History, project_id: int) -> None:
        self._history, self.project_id, self._pid = history, project_id, os.getpid()

    def heartbeat(self) -> None:
        with self._history._session() as s:
            row = s.get(LockRow, self.project_id)
            if row is not None and row.pid == self._pid:
                row.heartbeat_at = utcnow()

    def release(self) -> None:
        with self._history._session() as s:
            s.execute(delete(LockRow).where(LockRow.project_id == self.project_id, LockRow.pid == self._pid))


def _is_stale(holder: LockHolder, host: str) -> bool:
    if utcnow() - holder.heartbeat_at > STALE_LOCK_AFTER:
        return True
    if holder.host == host and holder.pid != os.getpid():
        try:
            os.kill(holder.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    # Switching to WAL needs the database to itself; while another process holds it (its schema upgrade, or its
    # own switch), SQLite answers "locked" at once. WAL is a property of the file: that process sets it.
    with contextlib.suppress(sqlite3.OperationalError):
        cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def _unavailable(url: str, err: Exception) -> str:
    shown = url.split("@")[-1] if "@" in url else url  # never show a password from the URL
    return f"The history database ({shown}) is unavailable: {type(err).__name__}: {str(err).splitlines()[0][:200]}. Check AL_DB_URL and that the database is reachable and writable."


_WRITABLE = {c.name for c in IterationRow.__table__.columns} - {"id", "project_id", "number", "status", "started_at"}


def _record(row: IterationRow) -> IterationRecord:
    return IterationRecord.from_columns({c.name: getattr(row, c.name) for c in IterationRow.__table__.columns})


def _normalized(row: IterationRow) -> IterationRecord:
    """The row's record, its JSON groups rewritten the way the record reads them (what is stored is typed)."""
    record = _record(row)
    for group in ("settings", "counts", "metrics", "uncertainty"):
        setattr(row, group, getattr(record, group).to_json())
    row.timings = dict(record.timings)
    return record


def _jsonable(value: Any) -> Any:
    """Plain JSON: typed records as their stored form, numpy numbers as numbers, anything else as text."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if not isinstance(value, dict | list | tuple):
        return value
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))
