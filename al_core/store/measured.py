"""How sure a stored measurement is: the intervals and per-task outcomes kept with a version's metrics, read
from their stored JSON (``StoredMetrics`` in ``records`` uses these readers)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from al_core.learning.intervals import accuracy_interval

Interval = tuple[float, float]


class EvalOutcome(NamedTuple):
    """One evaluation task as a version saw it: its predicted label (a multi-label set joined with ``|``),
    whether that was right, the model's confidence (top probability) and the true label it was measured
    against (None when not stored). Stored as the list ``[predicted, correct, confidence, truth]``."""

    predicted: str
    correct: bool
    confidence: float | None = None
    truth: str | None = None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _task_id(key: Any) -> int | None:
    if isinstance(key, str) and key.lstrip("-").isdigit():
        return int(key)
    return key if isinstance(key, int) and not isinstance(key, bool) else None


def read_interval(value: Any) -> Interval | None:
    """A stored ``[low, high]`` with ``0 <= low <= high <= 1``; None for anything else."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    low, high = _number(value[0]), _number(value[1])
    return (low, high) if low is not None and high is not None and 0 <= low <= high <= 1 else None


def read_outcomes(value: Any) -> dict[int, EvalOutcome]:
    """The stored ``{"12": ["card", true, 0.83]}`` as ``{12: EvalOutcome("card", True, 0.83)}``; entries of
    another form are dropped (the confidence and the truth may be missing)."""
    if not isinstance(value, Mapping):
        return {}
    out: dict[int, EvalOutcome] = {}
    for key, entry in value.items():
        task_id = _task_id(key)
        if task_id is None or not isinstance(entry, list | tuple) or not 2 <= len(entry) <= 4:
            continue
        predicted, correct, rest = entry[0], entry[1], [*entry[2:], None, None]
        if isinstance(predicted, str) and isinstance(correct, bool):
            truth = rest[1] if isinstance(rest[1], str) else None
            out[task_id] = EvalOutcome(predicted, correct, _number(rest[0]), truth)
    return out


def wilson_of_stored(accuracy: float | None, n_eval: int | None) -> Interval | None:
    """The Wilson interval of an accuracy stored without one (older versions): ``accuracy * n_eval`` is the
    count of right answers (rounded, so a hand-edited share still reads). None when either is missing."""
    if accuracy is None or not n_eval or n_eval < 0:
        return None
    return accuracy_interval(min(max(round(accuracy * n_eval), 0), n_eval), n_eval)


def correct_by_task(outcomes: Mapping[int, EvalOutcome]) -> dict[int, bool]:
    """Evaluation task id -> whether the version got it right (what a paired comparison needs)."""
    return {task_id: outcome.correct for task_id, outcome in outcomes.items()}
