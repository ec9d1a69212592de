"""The versions table and the plain-language verdict at the top of the Progress page, from stored
iteration records (pure functions, like ``charts``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from al_core.learning.intervals import TARGET_MARGIN, Comparison, compare_versions, labels_for_margin
from al_core.reports.charts import STOP_KAPPA
from al_core.store.measured import Interval, correct_by_task
from al_core.store.records import BIASED_SAMPLE_NOTE, IterationRecord, StoredMetrics, succeeded_versions

TABLE_COLUMNS = (
    "version",
    "status",
    "trigger",
    "started",
    "labels",
    "eval labels",
    "accuracy",
    "accuracy 95% interval",
    "macro-F1",
    "macro-F1 95% interval",
    "vs previous (paired test)",
    "CV accuracy (biased)",
    "live agreement",
    "kappa",
    "mean entropy",
    "predictions uploaded",
    "total seconds",
    "error",
)


def interval_text(ci: Interval | None) -> str:
    """``62%-84%`` (a 95% interval in whole points), or empty when unknown."""
    return "" if ci is None else f"{ci[0]:.0%}-{ci[1]:.0%}"


def paired(before: IterationRecord | None, latest: IterationRecord) -> Comparison | None:
    """McNemar's test of ``latest`` against ``before`` on the evaluation tasks both were measured on; None when
    either version has no stored per-task outcomes (measured before they were stored, or no model)."""
    if before is None or not before.metrics.eval_outcomes or not latest.metrics.eval_outcomes:
        return None
    return compare_versions(
        correct_by_task(before.metrics.eval_outcomes), correct_by_task(latest.metrics.eval_outcomes)
    )


def versus_previous(records: Sequence[IterationRecord]) -> dict[str, str]:
    """Model version -> its paired-test verdict against the previous measured version (``better (p = 0.01)``)."""
    measured = [r for r in succeeded_versions(records) if r.metrics.accuracy is not None]
    out: dict[str, str] = {}
    for before, latest in zip(measured, measured[1:], strict=False):
        test = paired(before, latest)
        if test is None:
            out[latest.model_version] = "not tested (no per-task outcomes)"
        elif test.p_value is None or test.verdict == "no common tasks":
            out[latest.model_version] = test.verdict
        else:
            out[latest.model_version] = f"{test.verdict} (p = {test.p_value:.2g}, {test.n_common} tasks)"
    return out


def versions_table(records: Sequence[IterationRecord]) -> pd.DataFrame:
    """Every iteration (any status), newest first, one row each with ``TABLE_COLUMNS``; None stays missing.

    A running iteration's ``error`` column says since when it runs and its step. ``vs previous (paired test)``:
    McNemar's test against the previous measured version on the evaluation tasks both were measured on."""
    versus = versus_previous(records)
    rows = [
        (
            r.model_version,
            r.status,
            r.trigger,
            r.started_at,
            r.n_labeled,
            r.counts.n_eval_labeled,
            r.metrics.accuracy,
            interval_text(r.metrics.accuracy_ci),
            r.metrics.macro_f1,
            interval_text(r.metrics.macro_f1_ci),
            versus.get(r.model_version, ""),
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


def precision_text(metrics: StoredMetrics) -> str:
    """``±13 points: 95% interval 62%-84%; about 190 more evaluation labels for ±5 points``, or empty."""
    ci, n_eval = metrics.accuracy_ci, metrics.n_eval or 0
    if ci is None or metrics.accuracy is None:
        return ""
    more = labels_for_margin(metrics.accuracy, n_eval)
    target = round(TARGET_MARGIN * 100)
    narrow = f"about {more:,} more evaluation labels for ±{target} points" if more else f"within ±{target} points"
    return f"±{math.ceil((ci[1] - ci[0]) * 50)} points: 95% interval {interval_text(ci)}; {narrow}"


def accuracy_caption(metrics: StoredMetrics) -> str:
    """``74.2% on 40 evaluation labels (±14 points: 95% interval 60%-86%; about 252 more evaluation labels for ±5
    points)``, or ``accuracy not measured`` (no evaluation labels, or no model)."""
    if metrics.accuracy is None:
        return "accuracy not measured"
    precision = precision_text(metrics)
    shown = f"{metrics.accuracy:.1%} on {metrics.n_eval or 0:,} evaluation labels"
    return f"{shown} ({precision})" if precision else shown


def _trend(test: Comparison | None, before: IterationRecord) -> str:
    if test is None:
        return f"not tested for a real difference ({before.model_version} or this version has no per-task outcomes)"
    if test.verdict == "no common tasks":
        return f"no evaluation task in common with {before.model_version}: not compared"
    shared = (
        f"on the same {test.n_common} evaluation tasks, McNemar p = {1.0 if test.p_value is None else test.p_value:.2g}"
    )
    if test.verdict == "better":
        return f"the model is improving ({shared})"
    if test.verdict == "worse":
        return f"the model got worse ({shared}); check recent labels for mistakes or new kinds of tasks"
    fixed = f"{test.only_second_right} fixed, {test.only_first_right} broken"
    return f"within noise ({fixed} {shared}): no real difference yet"


def _accuracy_sentences(
    latest: IterationRecord, before: IterationRecord | None
) -> tuple[str, str, float | None, Comparison | None]:
    """(accuracy_text, verdict sentence, delta in points, the paired test against ``before``)."""
    acc, n_eval = latest.metrics.accuracy, latest.metrics.n_eval or 0
    if acc is None:
        if not latest.metrics.train_class_counts and latest.counts.cold_start is not False:
            return (
                "",
                f"{latest.model_version} was a cold start: there is no model yet (fewer than two classes labeled). Label tasks of at least two classes, then run the next iteration.",
                None,
                None,
            )
        return (
            "",
            f"{latest.model_version} has no evaluation-set labels yet, so its accuracy is unknown: keep labeling (the queue mixes in evaluation tasks).",
            None,
            None,
        )
    only = "only " if 0 < n_eval < 50 else ""  # nobody should read much into a few points on a tiny set
    precision = precision_text(latest.metrics)
    head = f"Accuracy is {acc:.1%} on {only}{n_eval:,} held-out evaluation labels" + (
        f" ({precision})" if precision else ""
    )
    if latest.metrics.biased_sample:
        head += f", {BIASED_SAMPLE_NOTE}"
    prev = before.metrics.accuracy if before else None
    if before is None or prev is None:
        return "first measured version", f"{head}: the first measured version.", None, None
    delta = (acc - prev) * 100
    text = f"{delta:+.1f} points since {before.model_version}"
    test = paired(before, latest)
    return text, f"{head}, {text}: {_trend(test, before)}.", delta, test


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
    ``consider_stopping``, ``stopping_text``, ``accuracy_ci`` and ``macro_f1_ci`` (95% intervals), ``precision_text``,
    ``labels_for_margin`` (more evaluation labels for +-5 points), ``paired_verdict`` (``better``, ``worse``,
    ``within noise``, ``no common tasks``, or None when untested) and ``paired_p``, ``last_failed`` (the newest iteration's error when it
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
    out.update(accuracy_ci=None, macro_f1_ci=None, precision_text="", labels_for_margin=None)
    out.update(paired_verdict=None, paired_p=None)
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
    acc = latest.metrics.accuracy
    before = _previous_with(done, _accuracy)
    acc_text, acc_sentence, acc_delta, test = _accuracy_sentences(latest, before)
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
        accuracy_ci=latest.metrics.accuracy_ci,
        macro_f1_ci=latest.metrics.macro_f1_ci,
        precision_text=precision_text(latest.metrics),
        labels_for_margin=None if acc is None else labels_for_margin(acc, latest.metrics.n_eval or 0),
        paired_verdict=None if test is None else test.verdict,
        paired_p=None if test is None else test.p_value,
    )
    out["verdict"] = " ".join(s for s in (acc_sentence, unc_text, stop_text) if s)
    return out
