"""The evaluation tasks a version got wrong, for the Progress page: text excerpt, true and predicted label,
confidence and a link to the task in Label Studio.

The outcomes come from the version's stored metrics (``StoredMetrics.eval_outcomes``, written when it was
measured); the texts from this machine's task cache (``labelstudio.task_cache``), read as Label Studio shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from al_core.labelstudio.label_config import parse_label_config
from al_core.labelstudio.task_cache import cached_tasks
from al_core.labelstudio.task_data import task_text
from al_core.store.records import IterationRecord

EXCERPT = 160  # characters of a task's text shown in the table
COLUMNS = ("task", "text", "true label", "predicted", "confidence", "open in Label Studio")


@dataclass(frozen=True)
class Mistake:
    """One evaluation task the version got wrong (``truth`` and ``confidence`` None when not stored)."""

    task_id: int
    predicted: str
    truth: str | None
    confidence: float | None


def mistakes(record: IterationRecord) -> list[Mistake]:
    """The version's wrong answers on the evaluation set, the most confident first (the most surprising)."""
    wrong = [
        Mistake(task_id, o.predicted, o.truth, o.confidence)
        for task_id, o in record.metrics.eval_outcomes.items()
        if not o.correct
    ]
    return sorted(wrong, key=lambda m: (-(m.confidence or 0.0), m.task_id))


def task_link(server_url: str, project_id: int, task_id: int) -> str:
    """Label Studio's data manager with the task open."""
    return f"{server_url.rstrip('/')}/projects/{project_id}/data?task={task_id}"


def excerpt(text: str | None, limit: int = EXCERPT) -> str:
    """The text on one line, cut at ``limit`` characters with an ellipsis; a note when it is not known."""
    if text is None:
        return "(text not cached on this machine: open the task)"
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def cached_texts(server_url: str, project_id: int, label_config: str, record: IterationRecord) -> dict[int, str]:
    """The texts of ``record``'s wrong answers as Label Studio shows them (for the config's ``<Choices>`` the
    version was trained for), from this machine's task cache; tasks missing from it are left out.

    Raises ConfigError when the labeling config has no usable ``<Choices>`` block."""
    spec = parse_label_config(label_config, record.settings.control)
    task_ids = {m.task_id for m in mistakes(record)}
    tasks = cached_tasks(server_url, project_id)
    out = {}
    for task_id in task_ids:
        task = tasks.get(task_id)
        text = task_text(task.data, spec) if task is not None else None
        if text is not None:
            out[task_id] = text
    return out


def mistakes_table(record: IterationRecord, texts: Mapping[int, str], server_url: str, project_id: int) -> pd.DataFrame:
    """One row per wrong answer with ``COLUMNS`` (``confidence`` a share, missing when not stored)."""
    rows = [
        (
            m.task_id,
            excerpt(texts.get(m.task_id)),
            m.truth or "",
            m.predicted,
            m.confidence,
            task_link(server_url, project_id, m.task_id),
        )
        for m in mistakes(record)
    ]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["confidence"] = frame["confidence"].astype("float64")
    return frame
