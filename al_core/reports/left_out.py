"""What an iteration left out, in sentences: read from its counts, said by the CLI, the Active Learning page and
the history (stored with the record's counts as ``warnings``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from al_core.labelstudio.gateway_payloads import SLOW_IMPORT_WARNING

# Said after a cold start's message once its first batch is in Label Studio's queue (never when nothing was queued).
COLD_START_QUEUED = (
    "The queue now serves a diverse first batch and the evaluation set; label tasks of at least two classes "
    "and run the next iteration."
)


def _count(value: Any) -> int:
    """A stored count: an int, or a mapping of label -> count (``unknown_labels``) summed; anything else is 0."""
    if isinstance(value, Mapping):
        return sum(n for n in value.values() if isinstance(n, int) and not isinstance(n, bool))
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def iteration_warnings(counts: Mapping[str, Any]) -> list[str]:
    """One sentence per kind of data an iteration could not use, from its counts (empty when nothing was left out).

    Reads ``missing_text``, ``skipped``, ``unknown_labels`` (label -> annotations, or their number),
    ``no_usable_label`` and ``predictions_left_out``; a missing count reads as 0. A ``prediction_import`` of
    ``"per-project"`` (a Label Studio whose uploads recount the whole project) adds the setting that makes them fast.
    """
    out = []
    if n := _count(counts.get("missing_text")):
        out.append(
            f"{_plural(n, 'task has', 'tasks have')} no text in the field the labeling config shows: left out of "
            "training and scoring."
        )
    if n := _count(counts.get("skipped")):
        out.append(f"{_plural(n, 'task was', 'tasks were')} skipped by every annotator: not trained on.")
    unknown = counts.get("unknown_labels")
    if n := _count(unknown):
        named = (
            ", ".join(f"{label!r} ({k:,})" for label, k in sorted(unknown.items()))
            if isinstance(unknown, Mapping)
            else ""
        )
        out.append(
            f"{_plural(n, 'annotation names a label', 'annotations name labels')} not in the labeling config"
            f"{': ' + named if named else ''}; ignored. Add the labels to the config or fix the annotations."
        )
    if n := _count(counts.get("no_usable_label")):
        out.append(
            f"{_plural(n, 'labeled task has', 'labeled tasks have')} no usable answer (empty, for another control, "
            "several choices where the config allows one, or only unknown labels): neither trained on nor queued."
        )
    if n := _count(counts.get("predictions_left_out")):
        out.append(
            f"{_plural(n, 'prediction was', 'predictions were')} left out: "
            f"{'its task was' if n == 1 else 'their tasks were'} deleted in Label Studio during the run."
        )
    if counts.get("prediction_import") == "per-project":
        out.append(SLOW_IMPORT_WARNING)
    return out


def run_message(message: str, cold_start: bool, n_predictions: int, n_planned: int) -> str:
    """An iteration's closing message from what happened: a cold start's queue is announced only when its
    predictions reached Label Studio, and a run that queued nothing says why (never both)."""
    if n_predictions:
        return f"{message} {COLD_START_QUEUED}" if cold_start else message
    if n_planned:
        why = f"all {n_planned:,} tasks it scored were deleted from Label Studio during the run; run it again"
    else:
        why = "every task is labeled, so nothing is left to queue; import more tasks to continue"
    return f"{message} Nothing was queued: {why}."
