"""The versions table and the plain-language verdict at the top of the Progress page, from stored
iteration records (pure functions, like ``charts``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from al_core.reports.charts import STOP_KAPPA
from al_core.store.records import BIASED_SAMPLE_NOTE, IterationRecord, succeeded_versions

TABLE_COLUMNS = (
    "version",
    "status",
    "trigger",
    "started",
    "labels",
    "eval labels",
    "accuracy",
    "macro-F1",
    "CV accuracy (biased)",
    "live agreement",
    "kappa",
    "mean entropy",
    "predictions uploaded",
    "total seconds",
    "error",
)


def versions_table(records: Sequence[IterationRecord]) -> pd.DataFrame:
    """Every iteration (any status), newest first, one row each with ``TABLE_COLUMNS``; None stays missing.

    A running iteration's ``error`` column says since when it runs and its step."""
    rows = [
        (
            r.model_version,
            r.status,
            r.trigger,
            r.started_at,
            r.n_labeled,
            r.counts.n_eval_labeled,
            r.metrics.accuracy,
            r.metrics.macro_f1,
            r.metrics.cv_accuracy,
            r.metrics.live_agreement,
            r.uncertainty.kappa,
            r.uncertainty.mean_normalized_entropy,
            r.counts.n_predictions,
            round(r.total_seconds, 1),
            r.error or (r.state_text() if r.status == "running" else ""),
        )
        for r in sorted(records, key=lambda r: r.number, reverse=True)
    ]
    frame = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    floats = ["accuracy", "macro-F1", "CV accuracy (biased)", "live agreement", "kappa", "mean entropy"]
    frame[floats] = frame[floats].astype("float64")
    return frame


Value = Callable[[IterationRecord], float | int | None]


def _accuracy(r: IterationRecord) -> float | None:
    return r.metrics.accuracy


def _entropy(r: IterationRecord) -> float | None:
    return r.uncertainty.mean_normalized_entropy


def _previous_with(done: list[IterationRecord], value: Value) -> IterationRecord | None:
    return next((r for r in reversed(done[:-1]) if value(r) is not None), None)


def _accuracy_sentences(latest: IterationRecord, before: IterationRecord | None) -> tuple[str, str, float | None]:
    """(accuracy_text, verdict sentence, delta in points)."""
    acc, n_eval = latest.metrics.accuracy, latest.metrics.n_eval or 0
    if acc is None:
        if not latest.metrics.train_class_counts and latest.counts.cold_start is not False:
            return (
                "",
                f"{latest.model_version} was a cold start: there is no model yet (fewer than two classes labeled). Label tasks of at least two classes, then run the next iteration.",
                None,
            )
        return (
            "",
            f"{latest.model_version} has no evaluation-set labels yet, so its accuracy is unknown: keep labeling (the queue mixes in evaluation tasks).",
            None,
        )
    head = f"Accuracy is {acc:.1%} on {n_eval:,} held-out evaluation labels"
    if 0 < n_eval < 50:  # a rough 95% range, so nobody reads much into a few points on a tiny set
        margin = math.ceil(196 * math.sqrt(acc * (1 - acc) / n_eval))
        head = f"Accuracy is {acc:.1%} on only {n_eval} held-out evaluation labels (±{margin} points)"
    if latest.metrics.biased_sample:
        head += f", {BIASED_SAMPLE_NOTE}"
    prev = before.metrics.accuracy if before else None
    if before is None or prev is None:
        return "first measured version", f"{head}: the first measured version.", None
    delta = (acc - prev) * 100
    text = f"{delta:+.1f} points since {before.model_version}"
    if delta >= 1:
        trend = "the model is improving"
    elif delta <= -1:
        trend = "the model got worse; check recent labels for mistakes or new kinds of tasks"
    else:
        trend = "about the same"
    return text, f"{head}, {text}: {trend}.", delta


def _uncertainty_sentence(latest: IterationRecord, before: IterationRecord | None) -> tuple[str, float | None]:
    now = latest.uncertainty.mean_normalized_entropy
    if now is None:
        return "", None
    prev = before.uncertainty.mean_normalized_entropy if before else None
    if before is None or prev is None:
        return f"Mean entropy over the unlabeled pool is {now:.2f} (0 = sure, 1 = no idea).", None
    delta = now - prev
    if delta <= -0.005:
        return (
            f"Mean entropy down from {prev:.2f} to {now:.2f}: the model is more certain about the unlabeled pool.",
            delta,
        )
    if delta >= 0.005:
        return (
            f"Mean entropy up from {prev:.2f} to {now:.2f}: the model is less certain (new kinds of tasks or classes?).",
            delta,
        )
    return f"Mean entropy steady at {now:.2f}.", delta


def _stopping_sentence(latest: IterationRecord) -> tuple[str, bool]:
    if latest.uncertainty.consider_stopping:
        return (
            f"Predictions have stopped changing (kappa at or above {STOP_KAPPA} for 3 versions in a row): "
            "consider stopping, after checking the weakest classes.",
            True,
        )
    kappa = latest.uncertainty.kappa
    if kappa is None:
        return "", False
    if kappa >= STOP_KAPPA:
        return (
            f"Predictions barely changed since the previous version (kappa {kappa:.3f}); keep going until this holds for 3 versions.",
            False,
        )
    return f"Predictions still change between versions (kappa {kappa:.3f}): keep labeling.", False


def summary(records: Sequence[IterationRecord]) -> dict[str, Any]:
    """The plain-language verdict for the top of the Progress page, and the numbers behind it.

    Keys: ``n_versions``, ``latest``, ``previous``, ``accuracy``, ``accuracy_delta`` (points),
    ``accuracy_text``, ``macro_f1``, ``macro_f1_delta`` (points), ``n_labeled``, ``n_labeled_delta``,
    ``n_eval``, ``mean_entropy``, ``entropy_delta``, ``uncertainty_text``, ``kappa``,
    ``consider_stopping``, ``stopping_text``, ``last_failed`` (the newest iteration's error when it
    failed after the latest success), ``verdict``, and ``history``: the known values of ``accuracy``,
    ``macro_f1``, ``n_labeled``, ``mean_entropy`` and ``kappa``, oldest first (for sparklines).
    Never raises on missing or None values.
    """
    done = succeeded_versions(records)
    newest = max(records, key=lambda r: r.number, default=None)
    failed = None
    if newest is not None and newest.status == "failed" and (not done or newest.number > done[-1].number):
        failed = f"The last iteration ({newest.model_version}) failed: {newest.error or 'no error recorded'}"
    out: dict[str, Any] = dict.fromkeys(
        ("latest", "previous", "accuracy", "accuracy_delta", "macro_f1", "macro_f1_delta", "n_labeled"), None
    )
    out.update(n_labeled_delta=None, mean_entropy=None, entropy_delta=None, kappa=None, n_eval=0)
    out.update(n_versions=len(done), accuracy_text="", uncertainty_text="", stopping_text="", last_failed=failed)
    out["consider_stopping"] = False
    sources: dict[str, Value] = {
        "accuracy": _accuracy,
        "macro_f1": lambda r: r.metrics.macro_f1,
        "n_labeled": lambda r: r.n_labeled,
        "mean_entropy": _entropy,
        "kappa": lambda r: r.uncertainty.kappa,
    }
    out["history"] = {name: [v for r in done if (v := value(r)) is not None] for name, value in sources.items()}
    if not done:
        out["verdict"] = "No model versions yet: label a few tasks in Label Studio, then run an iteration."
        return out
    latest = done[-1]
    before = _previous_with(done, _accuracy)
    acc_text, acc_sentence, acc_delta = _accuracy_sentences(latest, before)
    unc_text, ent_delta = _uncertainty_sentence(latest, _previous_with(done, _entropy))
    stop_text, stop = _stopping_sentence(latest)
    f1, f1_before = latest.metrics.macro_f1, before.metrics.macro_f1 if before else None
    n_before = done[-2].n_labeled if len(done) > 1 else None
    out.update(
        latest=latest.model_version,
        previous=before.model_version if before else None,
        accuracy=latest.metrics.accuracy,
        accuracy_delta=acc_delta,
        accuracy_text=acc_text,
        macro_f1=f1,
        macro_f1_delta=(f1 - f1_before) * 100 if f1 is not None and f1_before is not None else None,
        n_labeled=latest.n_labeled,
        n_labeled_delta=latest.n_labeled - n_before if latest.n_labeled is not None and n_before is not None else None,
        n_eval=latest.metrics.n_eval or 0,
        mean_entropy=latest.uncertainty.mean_normalized_entropy,
        entropy_delta=ent_delta,
        uncertainty_text=unc_text,
        kappa=latest.uncertainty.kappa,
        consider_stopping=stop,
        stopping_text=stop_text,
    )
    out["verdict"] = " ".join(s for s in (acc_sentence, unc_text, stop_text) if s)
    return out
