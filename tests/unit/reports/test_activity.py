"""Tests for al_core.reports.activity: the sentences that say who runs what since when, and why a run failed."""

from __future__ import annotations

from datetime import datetime, timedelta

from al_core.reports.activity import activity, failed_text, running_text
from al_core.store.history import LockHolder
from al_core.store.records import IterationRecord

NOW = datetime(2025, 3, 1, 10, 45)


def _record(number: int, status: str, **columns: object) -> IterationRecord:
    return IterationRecord.from_columns(
        {
            "id": number,
            "project_id": 1,
            "number": number,
            "model_version": f"al-{number:04d}",
            "status": status,
            "trigger": "webhook",
            "started_at": datetime(2025, 3, 1, 10, 41),
            **columns,
        }
    )


HOLDER = LockHolder(1, "the webhook receiver", "box", 4242, datetime(2025, 3, 1, 10, 41), NOW)


def test_a_running_iteration_says_since_when_which_step_and_who() -> None:
    text = running_text(_record(3, "running", step="embed"), HOLDER, NOW)
    assert text == (
        "al-0003 running since 10:41 UTC (for 4 min), step: embed, started by the webhook receiver on box, pid 4242"
    )
    assert "step: starting" in running_text(_record(3, "running"), HOLDER, NOW)
    assert "since 2025-03-01 10:41 UTC" in running_text(_record(3, "running"), HOLDER, NOW + timedelta(days=1))


def test_a_running_record_without_a_lock_holder_was_interrupted() -> None:
    text = running_text(_record(3, "running", step="train"), None, NOW)
    assert text.startswith("al-0003 started at 10:41 UTC (step: train, started by webhook) and never finished")
    assert "run a new iteration" in text


def test_a_failed_iteration_gives_its_error_and_step() -> None:
    failed = _record(4, "failed", step="read", error="Label Studio does not answer.", finished_at=NOW)
    assert failed_text(failed, NOW) == (
        "al-0004 failed at 10:45 UTC (step: read, started by webhook): Label Studio does not answer."
    )


def test_activity_lists_the_running_ones_then_the_last_failure() -> None:
    records = [
        _record(1, "running", step="read"),  # killed long ago: the lock holder is the newest run's
        _record(2, "failed", error="boom", finished_at=NOW),
        _record(3, "running", step="embed"),
    ]
    kinds = [(a.model_version, a.kind) for a in activity(records, HOLDER, NOW)]
    assert kinds == [("al-0003", "running"), ("al-0001", "interrupted"), ("al-0002", "failed")]
    assert [a.kind for a in activity(records, None, NOW)] == ["interrupted", "interrupted", "failed"]


def test_nothing_to_say_when_the_last_run_succeeded() -> None:
    records = [_record(1, "failed", error="boom"), _record(2, "succeeded")]
    assert activity(records, None, NOW) == [] and activity([], None, NOW) == []
