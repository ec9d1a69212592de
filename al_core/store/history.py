"""The history store: every iteration, the evaluation sets, events, automation settings and the per-project
run lock. SQLAlchemy; a SQLite file under ``.data/`` by default, any SQLAlchemy URL via ``AL_DB_URL``.

Everything the dashboard shows comes from here and from Label Studio, never from one browser's session,
so teammates see the same.

One database may hold the histories of several Label Studio servers, whose project and task ids collide: a
``History`` belongs to one server (``History(db_url, server=gateway.url)``), and every method that takes a
project id reads and writes that server's project only. The rows of a history written before servers were
stored that the upgrade could not attach to a server (migration 0005: no connection was configured then) are
claimed by the first server that opens that project's history, unless that server has rows of it already.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from al_core.errors import ConfigError, HistoryUnavailable
from al_core.progress import Progress
from al_core.settings import server_key
from al_core.store import locks, schema
from al_core.store.locks import LockHolder, RunLock
from al_core.store.records import AutomationRecord, IterationRecord, StoredSettings
from al_core.store.rows import UNATTACHED, AutomationRow, EvalTaskRow, EventRow, IterationRow, LockRow, utcnow

__all__ = ["Event", "History", "LockHolder", "RunLock"]
_PER_PROJECT = (IterationRow, EvalTaskRow, EventRow, AutomationRow, LockRow)  # every table, all keyed by server


@dataclass(frozen=True)
class Event:
    project_id: int
    at: datetime
    kind: str
    detail: dict[str, Any]


class History:
    """The history of one Label Studio server's projects in the database at ``url``. Safe to share between
    threads; one per process and server is enough.

    Args:
        url: the database's SQLAlchemy URL (``settings.db_url()``).
        server: the Label Studio server's URL (a ``Gateway.url``); kept as its ``settings.server_key``.

    Raises:
        ConfigError: no server given.
        HistoryUnavailable: the database cannot be opened, or was written by a newer version.
    """

    def __init__(self, url: str, *, server: str) -> None:
        self.url = url
        self.server = server_key(server)
        if not self.server:
            raise ConfigError("A history belongs to one Label Studio server: give the server's URL.")
        self._claimed: set[int] = set()
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

    def __repr__(self) -> str:
        return f"History(server={self.server!r})"

    def check_server(self, url: str) -> None:
        """Raise ConfigError unless ``url`` (a Gateway's) is this history's server: one server's ids must never
        be read or written as another's."""
        if server_key(url) != self.server:
            raise ConfigError(
                f"The history of the Label Studio at {self.server} was given for the one at {server_key(url)}."
            )

    @contextmanager
    def _session(self, project_id: int | None = None) -> Iterator[Session]:
        """A transaction; with ``project_id``, that project's unattached rows are claimed first (``_claim``)."""
        if project_id is not None:
            self._claim_once(project_id)
        try:
            with self._sessions.begin() as session:
                yield session
        except IntegrityError:
            raise
        except OperationalError as err:
            raise HistoryUnavailable(_unavailable(self.url, err)) from err

    def _claim_once(self, project_id: int) -> None:
        if project_id not in self._claimed:
            self._claim(project_id)

    def _claim(self, project_id: int) -> None:
        """Attach the project's unattached rows to this server (once per process), unless this server has rows
        of the project already: the first server that opens an unattached history owns it, and two servers'
        histories never merge."""
        with self._session() as s:
            unattached = [t for t in _PER_PROJECT if _has_rows(s, t, UNATTACHED, project_id)]
            if unattached and not any(_has_rows(s, t, self.server, project_id) for t in _PER_PROJECT):
                for table in unattached:
                    s.execute(
                        table.__table__.update()
                        .where(table.server == UNATTACHED, table.project_id == project_id)
                        .values(server=self.server)
                    )
        self._claimed.add(project_id)

    def _of(self, table: Any, project_id: int) -> Any:
        """The condition selecting this server's rows of ``table`` for the project."""
        return (table.server == self.server) & (table.project_id == project_id)

    # -- iterations --------------------------------------------------------------------------------
    def start_iteration(
        self, project_id: int, n_labeled: int | None, settings: dict[str, Any] | StoredSettings, trigger: str
    ) -> IterationRecord:
        """Create a 'running' iteration with the next unique, sortable version name (``al-0007-n350``).

        ``n_labeled`` is None when the labels are not read yet (the version is then ``al-0007`` until
        ``name_version``); ``settings`` are the ``IterationSettings`` as a dict (or a ``StoredSettings``).
        """
        with self._session(project_id) as s:
            mine = self._of(IterationRow, project_id)
            last = s.scalar(select(IterationRow.number).where(mine).order_by(IterationRow.number.desc()).limit(1))
            number = (last or 0) + 1
            row = IterationRow(
                server=self.server,
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
        with self._session(project_id) as s:
            row = s.scalar(
                select(IterationRow).where(self._of(IterationRow, project_id), IterationRow.model_version == version)
            )
            if row is not None:
                row.predictions_state = state

    def iterations(self, project_id: int) -> list[IterationRecord]:
        """All iterations of a project, oldest first."""
        with self._session(project_id) as s:
            rows = s.scalars(
                select(IterationRow).where(self._of(IterationRow, project_id)).order_by(IterationRow.number)
            )
            return [_record(r) for r in rows]

    def last_change(self, project_id: int) -> str:
        """A short text that changes whenever an iteration of the project starts, moves to another step, is
        named, finishes or has its predictions pruned: a cache key for what is built from ``iterations``
        (reads a few small columns, not the stored JSON)."""
        columns = (IterationRow.id, IterationRow.status, IterationRow.model_version, IterationRow.step)
        columns += (IterationRow.finished_at, IterationRow.predictions_state)
        with self._session(project_id) as s:
            rows = s.execute(select(*columns).where(self._of(IterationRow, project_id))).all()
        digest = hashlib.blake2b(repr(sorted(tuple(r) for r in rows)).encode(), digest_size=12).hexdigest()
        return f"{len(rows)}-{digest}"

    def succeeded(self, project_id: int) -> list[IterationRecord]:
        return [it for it in self.iterations(project_id) if it.status == "succeeded"]

    def get_iteration(self, project_id: int, version: str) -> IterationRecord | None:
        return next((it for it in self.iterations(project_id) if it.model_version == version), None)

    # -- evaluation set ----------------------------------------------------------------------------
    def eval_set(self, project_id: int) -> tuple[int, ...]:
        with self._session(project_id) as s:
            ids = s.scalars(select(EvalTaskRow.task_id).where(self._of(EvalTaskRow, project_id)))
            return tuple(sorted(ids))

    def save_eval_set(self, project_id: int, task_ids: Sequence[int]) -> None:
        """Record the evaluation set once; it never changes afterwards (its labels are never trained on)."""
        with self._session(project_id) as s:
            if s.scalar(select(EvalTaskRow.task_id).where(self._of(EvalTaskRow, project_id)).limit(1)) is not None:
                return
            s.add_all(EvalTaskRow(server=self.server, project_id=project_id, task_id=int(t)) for t in task_ids)

    # -- events ------------------------------------------------------------------------------------
    def add_event(self, project_id: int, kind: str, detail: dict[str, Any]) -> None:
        with self._session(project_id) as s:
            s.add(EventRow(server=self.server, project_id=project_id, kind=kind, detail=_jsonable(detail)))

    def events(self, project_id: int, kind: str | None = None, limit: int = 50) -> list[Event]:
        with self._session(project_id) as s:
            q = select(EventRow).where(self._of(EventRow, project_id))
            if kind:
                q = q.where(EventRow.kind == kind)
            rows = s.scalars(q.order_by(EventRow.id.desc()).limit(limit))
            return [Event(r.project_id, r.at, r.kind, r.detail) for r in rows]

    # -- automation --------------------------------------------------------------------------------
    def automation(self, project_id: int) -> AutomationRecord | None:
        """The project's automation settings and counter, or None when automation was never set up."""
        with self._session(project_id) as s:
            row = s.get(AutomationRow, (self.server, project_id))
            if row is None:
                return None
            return AutomationRecord(row.project_id, row.every, dict(row.settings or {}), row.counted or 0)

    def save_automation(self, project_id: int, *, every: int, settings: dict[str, Any]) -> None:
        with self._session(project_id) as s:
            row = s.get(AutomationRow, (self.server, project_id))
            row = row or AutomationRow(server=self.server, project_id=project_id, counted=0, seen=[])
            row.every, row.settings = every, settings
            s.add(row)

    def count_annotation(self, project_id: int, annotation_id: int, default_every: int) -> tuple[int, int, bool]:
        """Count one new annotation (duplicates ignored). Returns (counted, every, was_new)."""
        with self._session(project_id) as s:
            row = s.get(AutomationRow, (self.server, project_id))
            if row is None:
                row = AutomationRow(
                    server=self.server, project_id=project_id, every=default_every, settings={}, counted=0, seen=[]
                )
                s.add(row)
            seen = list(row.seen or [])
            if annotation_id in seen:
                return row.counted, row.every, False
            row.seen = (seen + [annotation_id])[-5000:]
            row.counted = (row.counted or 0) + 1
            return row.counted, row.every, True

    def count_back(self, project_id: int, n: int) -> None:
        """Return ``n`` taken annotations to the counter (their run failed)."""
        with self._session(project_id) as s:
            row = s.get(AutomationRow, (self.server, project_id))
            if row is not None:
                row.counted = (row.counted or 0) + n

    def take_counted(self, project_id: int) -> int:
        """Reset the counter when a run starts; annotations arriving during the run count toward the next."""
        with self._session(project_id) as s:
            row = s.get(AutomationRow, (self.server, project_id))
            if row is None:
                return 0
            taken, row.counted = row.counted, 0
            return taken

    # -- the per-project run lock (al_core.store.locks) --------------------------------------------
    @contextmanager
    def run_lock(self, project_id: int, owner: str) -> Iterator[RunLock]:
        """Hold the project's run lock (across processes) for the duration of the block.

        Raises:
            IterationLocked: another live run holds it; the message says who and since when.
        """
        self._claim_once(project_id)
        lock = locks.acquire(self._session, self.server, project_id, owner)
        try:
            yield lock
        finally:
            lock.release()

    def lock_holder(self, project_id: int) -> LockHolder | None:
        self._claim_once(project_id)
        return locks.holder(self._session, self.server, project_id)


def _has_rows(session: Session, table: Any, server: str, project_id: int) -> bool:
    found = select(table.project_id).where(table.server == server, table.project_id == project_id).limit(1)
    return session.scalar(found) is not None


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


_WRITABLE = {c.name for c in IterationRow.__table__.columns} - {"id", "server", "project_id", "number", "status"}
_WRITABLE -= {"started_at"}


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
