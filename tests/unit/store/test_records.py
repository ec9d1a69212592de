"""Tests for al_core.store.records: the typed records read back from the JSON the engine stores."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest

from al_core.learning import evaluation
from al_core.store.records import (
    IterationCounts,
    IterationRecord,
    StoredMetrics,
    StoredSettings,
    StoredUncertainty,
    read_timings,
    succeeded_versions,
)


def engine_metrics() -> dict:
    """What scoring._metrics stores: measure(...).to_dict() plus cv, class counts and live agreement."""
    measured = evaluation.measure(["a", "b", "a", "c"], ["a", "b", "b", "c"], ["a", "b", "c"])
    assert measured is not None
    return {
        **measured.to_dict(),
        "cv_accuracy": None,
        "train_class_counts": {"a": 5, "b": 3},
        "live_agreement": 0.5,
        "n_live": 4,
    }


def engine_uncertainty() -> dict:
    info, proba = np.linspace(0, 1, 10), np.tile([[0.7, 0.3]], (10, 1))
    summary = evaluation.summarize_uncertainty(info, proba).to_dict()
    return {
        **summary,
        "changed_share": 0.1,
        "kappa": 0.9,
        "consider_stopping": False,
        "predicted_class_counts": {"a": 7},
    }


def test_metrics_as_the_engine_writes_them_read_back_typed_and_round_trip() -> None:
    metrics = StoredMetrics.from_json(engine_metrics())
    assert metrics.accuracy == 0.75 and metrics.n_eval == 4 and metrics.labels == ("a", "b", "c")
    assert metrics.confusion == ((1, 1, 0), (0, 1, 0), (0, 0, 1))
    assert metrics.per_class_f1["c"] == 1.0 and metrics.train_class_counts == {"a": 5, "b": 3}
    assert metrics.cv_accuracy is None and metrics.live_agreement == 0.5 and metrics.n_live == 4
    assert metrics.extra == {}
    assert StoredMetrics.from_json(metrics.to_json()) == metrics


def test_intervals_and_outcomes_as_the_engine_writes_them_read_back_typed() -> None:
    sure = evaluation.uncertainty([7, 8, 9, 10], ["a", "b", "a", "c"], ["a", "b", "b", "c"], [0.9] * 4, ["a", "b", "c"])
    metrics = StoredMetrics.from_json({**engine_metrics(), **sure.to_dict()})
    assert metrics.accuracy_ci == pytest.approx((0.3006, 0.9544), abs=1e-4)
    assert metrics.macro_f1_ci is not None and metrics.macro_f1_ci[0] <= metrics.macro_f1 <= metrics.macro_f1_ci[1]
    assert metrics.eval_outcomes[9] == ("b", False, 0.9, "a") and metrics.eval_outcomes[9].correct is False
    assert StoredMetrics.from_json(metrics.to_json()) == metrics


def test_a_version_stored_without_its_interval_gets_the_wilson_interval_when_read() -> None:
    metrics = StoredMetrics.from_json(engine_metrics())  # 3 of 4 right, stored before intervals were
    assert metrics.accuracy_ci == pytest.approx((0.3006, 0.9544), abs=1e-4)
    assert metrics.macro_f1_ci is None and metrics.eval_outcomes == {}
    assert StoredMetrics.from_json({"n_eval": 4}).accuracy_ci is None


def test_uncertainty_as_the_engine_writes_it_reads_back_typed_and_round_trips() -> None:
    unc = StoredUncertainty.read(engine_uncertainty(), multi_label=False)
    assert unc.n == 10 and len(unc.histogram_counts) == 20 and len(unc.histogram_edges) == 21
    assert set(unc.quantiles) == {"p05", "p25", "p50", "p75", "p95"} and unc.kappa == 0.9
    assert unc.consider_stopping is False and unc.predicted_class_counts == {("a",): 7}
    assert unc.mean_normalized_entropy == pytest.approx(0.881, abs=1e-3)
    assert StoredUncertainty.read(unc.to_json(), multi_label=False) == unc


def test_missing_keys_are_none_unknown_keys_are_kept_malformed_values_are_none() -> None:
    counts = IterationCounts.from_json({"n_labeled": None, "n_tasks": "12", "full_sync": 1, "future": [1, 2]})
    assert counts == IterationCounts(extra={"future": [1, 2]})
    assert counts.to_json() == {"future": [1, 2]}
    metrics = StoredMetrics.from_json(
        {"accuracy": math.nan, "macro_f1": True, "n_eval": 2.5, "labels": "ab", "confusion": [[1, "x"]]}
    )
    assert metrics == StoredMetrics()
    uncertainty = StoredUncertainty.read({"histogram_edges": [0.0, None, 1.0], "kappa": "high"}, multi_label=None)
    assert uncertainty.histogram_edges == () and uncertainty.kappa is None
    for junk in (None, [], "text", 3):
        assert IterationCounts.from_json(junk) == IterationCounts()
        assert StoredMetrics.from_json(junk) == StoredMetrics()
        assert StoredSettings.from_json(junk) == StoredSettings()
    assert read_timings({"read": 1, "train": "slow", "x": None}) == {"read": 1.0}


def test_settings_as_stored_by_the_engine() -> None:
    stored = {"model": "tfidf-logreg", "model_params": {"C": 2}, "strategy": "margin", "diversity": True}
    stored |= {"upload_top": 1000, "eval_size": None, "eval_every": 5, "keep_versions": 3, "random_state": 0}
    stored |= {"control": None, "trigger": "webhook"}
    settings = StoredSettings.from_json(stored)
    assert settings.model == "tfidf-logreg" and settings.model_params == {"C": 2} and settings.upload_top == 1000
    assert settings.eval_size is None and settings.trigger == "webhook" and settings.extra == {}


def test_multi_label_predictions_read_back_as_label_sets() -> None:
    stored = {"predicted_class_counts": {"a|b": 3, "a": 2, "x|y": 1, "p|q": 4}}
    unc = StoredUncertainty.read(stored, multi_label=True, known_labels=("a", "b", "p|q"))
    # "x|y": not made of known labels, kept whole; "p|q" is itself a label
    assert unc.predicted_class_counts == {("a", "b"): 3, ("a",): 2, ("x|y",): 1, ("p|q",): 4}
    assert unc.predicted_per_label() == {"a": 5, "b": 3, "x|y": 1, "p|q": 4}
    assert unc.to_json()["predicted_class_counts"] == [[["a", "b"], 3], [["a"], 2], [["x|y"], 1], [["p|q"], 4]]
    assert StoredUncertainty.read(unc.to_json(), multi_label=True) == unc


def test_single_label_predictions_are_never_split() -> None:
    unc = StoredUncertainty.read({"predicted_class_counts": {"a|b": 3}}, multi_label=False, known_labels=("a", "b"))
    assert unc.predicted_class_counts == {("a|b",): 3}


def _columns(**changes: object) -> dict:
    base = {"id": 1, "project_id": 1, "number": 1, "model_version": "al-0001", "status": "running"}
    return {**base, "trigger": "manual", "started_at": datetime(2025, 1, 1, 9, 30), **changes}


def test_a_running_record_says_what_it_lacks() -> None:
    running = IterationRecord.from_columns(_columns(counts={"n_labeled": None}, step="train", settings=None))
    assert running.n_labeled is None and running.finished_at is None and running.metrics == StoredMetrics()
    assert running.state_text() == "running since 2025-01-01 09:30 UTC, step train"
    assert not running.multi_label and running.total_seconds == 0


def test_a_failed_record_says_why() -> None:
    failed = IterationRecord.from_columns(_columns(status="failed", error="boom", timings={"read": 1.5}))
    assert failed.state_text() == "failed: boom" and failed.total_seconds == 1.5
    assert IterationRecord.from_columns(_columns(status="failed")).state_text() == "failed: no error recorded"


def test_succeeded_versions_are_the_succeeded_ones_oldest_first() -> None:
    records = [
        IterationRecord.from_columns(_columns(number=3, status="succeeded")),
        IterationRecord.from_columns(_columns(number=1, status="succeeded")),
        IterationRecord.from_columns(_columns(number=2, status="failed")),
    ]
    assert [r.number for r in succeeded_versions(records)] == [1, 3]
