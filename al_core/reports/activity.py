"""Who runs what since when, and why the last run failed: one sentence per running or failed iteration,
the same on every page and in ``status``.

Pure functions of the stored records and the project's run-lock holder (``History.lock_holder``). A run
takes the lock before it records itself as running and lets go after it records its end, so a record still
``running`` while no process holds the lock is a run that was killed mid-way (it never finishes by itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from al_core.store.history import LockHolder
from al_core.store.records import IterationRecord


@dataclass(frozen=True)
class Activity:
    """One iteration worth telling a team about: ``kind`` is ``running``, ``interrupted`` or ``failed``."""

    model_version: str
    kind: str
    text: str


def _at(moment: datetime, now: datetime) -> str:
    return f"{moment:%H:%M} UTC" if moment.date() == now.date() else f"{moment:%Y-%m-%d %H:%M} UTC"


def _duration(seconds: float) -> str:
    minutes = int(max(seconds, 0) // 60)
    if minutes < 1:
        return "under a minute"
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


def started_by(record: IterationRecord, holder: LockHolder | None) -> str:
    """The lock holder's owner with its process (``the CLI (pid 12) on host-a``), else the record's trigger."""
    if holder is None:
        return record.trigger or "unknown"
    return f"{holder.owner} on {holder.host}, pid {holder.pid}"


def running_text(record: IterationRecord, holder: LockHolder | None, now: datetime) -> str:
    """``al-0003 running since 10:41 UTC (for 4 min), step: embed, started by the webhook receiver ...``;
    without a lock holder, says that the run was interrupted and what to do."""
    step = record.step or "starting"
    since = _at(record.started_at, now)
    if holder is None:
        return (
            f"{record.model_version} started at {since} (step: {step}, started by {started_by(record, None)}) and "
            "never finished: no process holds the project's run lock, so the run was stopped mid-way. "
            "Its result is lost; run a new iteration."
        )
    ago = _duration((now - record.started_at).total_seconds())
    return f"{record.model_version} running since {since} (for {ago}), step: {step}, started by {started_by(record, holder)}"


def failed_text(record: IterationRecord, now: datetime) -> str:
    """``al-0004 failed at 10:45 UTC (step: train, started by cli): <error>``."""
    at = _at(record.finished_at or record.started_at, now)
    step = f"step: {record.step}, " if record.step else ""
    return f"{record.model_version} failed at {at} ({step}started by {record.trigger}): {record.error or 'no error recorded'}"


def activity(records: Sequence[IterationRecord], holder: LockHolder | None, now: datetime) -> list[Activity]:
    """The running iterations, newest first (the lock holder belongs to the newest), then the latest
    iteration when it failed. Empty when nothing runs and the last run did not fail."""
    newest_first = sorted(records, key=lambda r: r.number, reverse=True)
    running = [r for r in newest_first if r.status == "running"]
    out = [
        Activity(
            r.model_version,
            "running" if holder and i == 0 else "interrupted",
            running_text(r, holder if i == 0 else None, now),
        )
        for i, r in enumerate(running)
    ]
    last_done = next((r for r in newest_first if r.status != "running"), None)
    if last_done is not None and last_done.status == "failed":
        out.append(Activity(last_done.model_version, "failed", failed_text(last_done, now)))
    return out
