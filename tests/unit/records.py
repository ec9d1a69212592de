"""Hand-made iteration records shared by the chart, class-chart and summary tests.

They are built from the JSON the engine stores, through the same boundary the history store reads with
(``IterationRecord.from_columns``), so the reports are tested on records as they come out of storage.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go

from al_core.store.records import IterationRecord

LABELS = ["billing", "card", "loan"]


START = datetime(2025, 1, 1, 9, 0)


def record(
    number: int,
    *,
    status: str = "succeeded",
    n_labeled: int | None = None,
    accuracy: float | None = None,
    macro_f1: float | None = None,
    cv: float | None = None,
    live: float | None = None,
    kappa: float | None = None,
    entropy: float | None = None,
    stop: bool = False,
    cold: bool = False,
    error: str | None = None,
    n_eval: int = 40,
    right: set[int] | None = None,
) -> IterationRecord:
    """One stored iteration; ``cold`` gives the empty metrics and uncertainty of a cold start. ``right``: the
    evaluation tasks (ids 1 to ``n_eval``) this version got right, stored as its per-task outcomes."""
    n = n_labeled if n_labeled is not None else 20 * number
    metrics: dict[str, Any] = {}
    uncertainty: dict[str, Any] = {}
    if not cold and status == "succeeded":
        metrics = {"cv_accuracy": cv, "live_agreement": live, "n_live": 10, "train_class_counts": {"billing": n - 5}}
        metrics["train_class_counts"].update(card=3, loan=2)
        if accuracy is not None:
            metrics.update(
                accuracy=accuracy,
                macro_f1=macro_f1 if macro_f1 is not None else accuracy - 0.05,
                n_eval=n_eval,
                labels=LABELS,
                per_class_f1={"billing": 0.9, "card": accuracy - 0.1, "loan": 0.4},
                confusion=[[20, 2, 0], [3, 8, 1], [1, 1, 4]],
            )
            if right is not None:
                metrics["eval_outcomes"] = outcomes(right, n_eval)
        uncertainty = {
            "n": 500,
            "quantiles": {"p05": 0.05, "p25": 0.2, "p50": 0.4 - number / 1000, "p75": 0.6, "p95": 0.9},
            "histogram_counts": [25] * 20,
            "histogram_edges": [i / 20 for i in range(21)],
            "mean_normalized_entropy": entropy,
            "kappa": kappa,
            "changed_share": None if kappa is None else 1 - kappa,
            "consider_stopping": stop,
            "predicted_class_counts": {"billing": 300, "card": 150, "loan": 50},
        }
    return IterationRecord.from_columns(
        {
            "id": number,
            "project_id": 1,
            "number": number,
            "model_version": f"al-{number:04d}-n{n}",
            "status": status,
            "trigger": "manual",
            "started_at": START + timedelta(hours=number),
            "finished_at": START + timedelta(hours=number, minutes=1),
            "settings": {"strategy": "margin", "model": "tfidf_logreg"},
            "counts": {
                "n_labeled": n,
                "n_eval_labeled": n_eval,
                "n_predictions": 0 if cold else 500,
                "cold_start": cold,
            },
            "metrics": metrics,
            "uncertainty": uncertainty,
            "timings": {"read": 1.0, "train": 2.5, "upload": 4.0},
            "error": error,
            "artifact_path": None if cold else f"/tmp/al-{number}.joblib",
            "predictions_state": "kept",
        }
    )


def outcomes(right: set[int], n_eval: int) -> dict[str, list[Any]]:
    """Stored per-task outcomes of tasks 1 to ``n_eval``: right on ``right`` (predicted "billing", true label
    "billing"), wrong elsewhere (predicted "card")."""
    return {str(t): ["billing", True, 0.9] if t in right else ["card", False, 0.6] for t in range(1, n_eval + 1)}


def stored_as(rec: IterationRecord, **groups: dict[str, Any]) -> IterationRecord:
    """``rec`` with keys of its stored JSON groups changed (``stored_as(rec, metrics={"accuracy": None})``),
    read back through the storage boundary."""
    columns: dict[str, Any] = {f: getattr(rec, f) for f in ("id", "project_id", "number", "model_version", "status")}
    columns.update(trigger=rec.trigger, started_at=rec.started_at, finished_at=rec.finished_at, error=rec.error)
    columns.update(artifact_path=rec.artifact_path, predictions_state=rec.predictions_state, step=rec.step)
    for group in ("settings", "counts", "metrics", "uncertainty"):
        columns[group] = {**getattr(rec, group).to_json(), **groups.get(group, {})}
    columns["timings"] = {**rec.timings, **groups.get("timings", {})}
    return IterationRecord.from_columns(columns)


def many(n: int) -> list[IterationRecord]:
    return [
        record(i, accuracy=min(0.5 + i / 500, 0.95), cv=0.9, live=0.7, entropy=0.5 - i / 1000, kappa=0.9 + i / 2100)
        for i in range(1, n + 1)
    ]


def trace(fig: go.Figure, name: str) -> Any:
    return next(t for t in fig.data if t.name == name)


def is_empty_state(fig: go.Figure) -> bool:
    return not fig.data and len(fig.layout.annotations) == 1


def assert_empty_state_for_a_cold_start_or_none(make: Any) -> None:
    """A figure of one version shows a titled empty state, not a blank plot, for a cold start or no version."""
    for rec in (record(1, cold=True), None):
        fig = make(rec)
        assert is_empty_state(fig)
        assert fig.layout.title.text


def three_versions() -> list[IterationRecord]:
    """A cold start, then two measured versions (the second better, with kappa and live agreement)."""
    return [
        record(1, cold=True, n_labeled=3),
        record(2, accuracy=0.70, cv=0.80, entropy=0.50, kappa=None),
        record(3, accuracy=0.742, cv=0.85, live=0.6, entropy=0.42, kappa=0.93),
    ]
