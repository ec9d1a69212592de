"""Tests for al_core.charts: figures, the versions table and the summary from hand-made iteration records."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest

from al_core import charts
from al_core.history import IterationRecord

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
) -> IterationRecord:
    """One stored iteration; ``cold`` gives the empty metrics and uncertainty of a cold start."""
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
    return IterationRecord(
        id=number,
        project_id=1,
        number=number,
        model_version=f"al-{number:04d}-n{n}",
        status=status,
        trigger="manual",
        started_at=START + timedelta(hours=number),
        finished_at=START + timedelta(hours=number, minutes=1),
        settings={"strategy": "margin", "model": "tfidf_logreg"},
        counts={"n_labeled": n, "n_eval_labeled": n_eval, "n_predictions": 0 if cold else 500, "cold_start": cold},
        metrics=metrics,
        uncertainty=uncertainty,
        timings={"read": 1.0, "train": 2.5, "upload": 4.0},
        error=error,
        artifact_path=None if cold else f"/tmp/al-{number}.joblib",
        predictions_state="kept",
    )


@pytest.fixture
def three() -> list[IterationRecord]:
    return [
        record(1, cold=True, n_labeled=3),
        record(2, accuracy=0.70, cv=0.80, entropy=0.50, kappa=None),
        record(3, accuracy=0.742, cv=0.85, live=0.6, entropy=0.42, kappa=0.93),
    ]


def many(n: int) -> list[IterationRecord]:
    return [
        record(i, accuracy=min(0.5 + i / 500, 0.95), cv=0.9, live=0.7, entropy=0.5 - i / 1000, kappa=0.9 + i / 2100)
        for i in range(1, n + 1)
    ]


def trace(fig: go.Figure, name: str) -> Any:
    return next(t for t in fig.data if t.name == name)


def is_empty_state(fig: go.Figure) -> bool:
    return not fig.data and len(fig.layout.annotations) == 1


FIGURES_OF_RECORDS = [
    charts.learning_curve,
    charts.uncertainty_by_version,
    charts.stopping_signals,
    charts.step_timings,
]
FIGURES_OF_ONE = [
    charts.uncertainty_histogram,
    charts.class_balance,
    charts.confusion_matrix,
    charts.per_class_f1,
]


# -- every function on 0, 1, 3 and 200 versions ---------------------------------------------------------
@pytest.mark.parametrize("make", FIGURES_OF_RECORDS)
@pytest.mark.parametrize("size", [0, 1, 3, 200])
def test_record_figures_never_crash(make: Any, size: int, three: list[IterationRecord]) -> None:
    records = {0: [], 1: [record(1, cold=True)], 3: three, 200: many(200)}[size]
    fig = make(records)
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    if size == 0:
        assert is_empty_state(fig)


@pytest.mark.parametrize("make", FIGURES_OF_ONE)
def test_one_version_figures_show_an_empty_state_for_a_cold_start_or_none(make: Any) -> None:
    for rec in (record(1, cold=True), None):
        fig = make(rec)
        assert is_empty_state(fig)
        assert fig.layout.title.text


def test_failed_and_running_iterations_are_not_plotted(three: list[IterationRecord]) -> None:
    records = [*three, record(4, status="failed", error="boom"), record(5, status="running")]
    fig = charts.learning_curve(records)
    assert list(trace(fig, "Accuracy (evaluation set)").x) == [40, 60]
    assert [r.number for r in charts.succeeded_versions(records)] == [1, 2, 3]


# -- learning curve ----------------------------------------------------------------------------------------
def test_learning_curve_traces_match_the_records(three: list[IterationRecord]) -> None:
    fig = charts.learning_curve(three)
    accuracy = trace(fig, "Accuracy (evaluation set)")
    assert list(accuracy.y) == [0.70, 0.742]
    assert list(accuracy.x) == [40, 60]
    assert accuracy.line.dash == "solid"
    assert list(trace(fig, "Macro-F1 (evaluation set)").y) == pytest.approx([0.65, 0.692])
    cv = trace(fig, "CV accuracy on actively chosen labels (biased)")
    assert (cv.line.dash, cv.line.color) == ("dot", charts.GREY)
    assert list(cv.y) == [0.80, 0.85]
    live = trace(fig, "Live agreement: previous version vs new labels")
    assert live.mode == "markers"
    assert list(live.y) == [0.6]
    assert list(fig.layout.yaxis.range) == [0, 1.02]
    assert fig.layout.yaxis.tickformat == ".0%"
    assert "al-0003-n60" in accuracy.customdata[1][0]


def test_learning_curve_of_a_cold_start_only_is_an_empty_state() -> None:
    fig = charts.learning_curve([record(1, cold=True)])
    assert is_empty_state(fig)
    assert "two classes" in fig.layout.annotations[0].text


def test_learning_curve_skips_none_and_nan() -> None:
    recs = [
        record(1, accuracy=0.6),
        record(2, accuracy=None),
        record(3, accuracy=float("nan")),
        record(4, accuracy=0.8),
    ]
    assert list(trace(charts.learning_curve(recs), "Accuracy (evaluation set)").y) == [0.6, 0.8]


# -- uncertainty -------------------------------------------------------------------------------------------
def test_uncertainty_by_version_boxes_come_from_the_stored_quantiles(three: list[IterationRecord]) -> None:
    fig = charts.uncertainty_by_version(three)
    (box,) = fig.data
    assert isinstance(box, go.Box)
    assert list(box.x) == ["al-0002-n40", "al-0003-n60"]  # the cold start scored nothing
    assert list(box.lowerfence) == [0.05, 0.05]
    assert list(box.q1) == [0.2, 0.2]
    assert list(box.median) == [0.398, 0.397]
    assert list(box.q3) == [0.6, 0.6]
    assert list(box.upperfence) == [0.9, 0.9]
    assert "margin" in fig.layout.title.text


def test_per_version_charts_show_the_latest_30_of_200() -> None:
    for fig in (charts.uncertainty_by_version(many(200)), charts.step_timings(many(200))):
        assert list(fig.data[0].x) == [f"al-{i:04d}-n{20 * i}" for i in range(171, 201)]
        assert "Showing the latest 30 of 200 versions." in fig.layout.title.text.replace("<br>", " ")


def test_uncertainty_histogram_bars(three: list[IterationRecord]) -> None:
    fig = charts.uncertainty_histogram(three[-1])
    (bars,) = fig.data
    assert list(bars.y) == [25] * 20
    assert bars.x[0] == pytest.approx(0.025)
    assert "al-0003-n60" in fig.layout.title.text
    assert "500 tasks" in fig.layout.title.text


def test_uncertainty_histogram_rejects_mismatched_edges() -> None:
    rec = record(2, accuracy=0.7)
    rec.uncertainty["histogram_edges"] = [0.0, 1.0]
    assert is_empty_state(charts.uncertainty_histogram(rec))


# -- stopping signals ----------------------------------------------------------------------------------------
def test_stopping_signals_has_the_kappa_line_and_marks_stopping_versions() -> None:
    recs = [record(1, entropy=0.5), record(2, entropy=0.3, kappa=0.995), record(3, entropy=0.2, kappa=0.999, stop=True)]
    fig = charts.stopping_signals(recs)
    assert any(s.y0 == 0.99 and s.y1 == 0.99 and s.line.dash == "dash" for s in fig.layout.shapes)
    assert any(a.text == "stop when kappa stays above 0.99" for a in fig.layout.annotations)
    assert list(trace(fig, "Mean normalized entropy of the pool (0 = sure, 1 = no idea)").y) == [0.5, 0.3, 0.2]
    assert list(trace(fig, "Cohen's kappa vs the previous version (1 = same predictions)").y) == [0.995, 0.999]
    stop = trace(fig, "Consider stopping here")
    assert list(stop.x) == [60]
    assert stop.customdata[0] == "al-0003-n60"


def test_stopping_signals_without_kappa_has_no_stop_markers(three: list[IterationRecord]) -> None:
    three[2].uncertainty["kappa"] = None
    fig = charts.stopping_signals(three)
    assert [t.name for t in fig.data] == ["Mean normalized entropy of the pool (0 = sure, 1 = no idea)"]


def test_stopping_signals_axis_covers_negative_kappa() -> None:
    fig = charts.stopping_signals([record(1, entropy=0.5), record(2, entropy=0.5, kappa=-0.2)])
    assert fig.layout.yaxis.range[0] == pytest.approx(-0.25)


# -- class balance, confusion, F1 --------------------------------------------------------------------------
def test_class_balance_shares(three: list[IterationRecord]) -> None:
    fig = charts.class_balance(three[-1], LABELS)
    train, predicted = fig.data
    assert list(train.y) == LABELS
    assert list(train.x) == pytest.approx([55 / 60, 3 / 60, 2 / 60])
    assert list(predicted.x) == pytest.approx([0.6, 0.3, 0.1])
    assert train.name == "Training labels (60)"
    assert fig.layout.barmode == "group"


def test_class_balance_counts_multi_label_combinations_per_label() -> None:
    rec = record(2, accuracy=0.7)
    rec.uncertainty["predicted_class_counts"] = {"billing|card": 10, "card": 5, "other|thing": 1}
    fig = charts.class_balance(rec, LABELS)
    predicted = fig.data[1]
    shares = dict(zip(predicted.y, predicted.x, strict=True))
    assert shares["billing"] == pytest.approx(10 / 26)
    assert shares["card"] == pytest.approx(15 / 26)
    assert shares["other|thing"] == pytest.approx(1 / 26)  # not all parts are known labels: kept whole


def test_class_names_are_shown_as_text_not_markup() -> None:
    rec = record(2, accuracy=0.7)
    rec.metrics["train_class_counts"] = {"<b>bold</b>": 3, "Q&A": 2}
    fig = charts.class_balance(rec, ["<b>bold</b>", "Q&A"])
    assert list(fig.data[0].y)[:2] == ["&lt;b&gt;bold&lt;/b&gt;", "Q&amp;A"]  # Plotly shows the entities as text


def test_confusion_matrix_rows_true_columns_predicted(three: list[IterationRecord]) -> None:
    fig = charts.confusion_matrix(three[-1])
    (heat,) = fig.data
    assert list(heat.y) == LABELS
    assert list(heat.x) == LABELS
    assert [list(r) for r in heat.text] == [[20, 2, 0], [3, 8, 1], [1, 1, 4]]
    assert heat.z[1][1] == pytest.approx(8 / 12)
    assert heat.texttemplate == "%{text}"
    assert fig.layout.yaxis.autorange == "reversed"


def test_confusion_matrix_hides_cell_text_above_30_classes() -> None:
    rec = record(2, accuracy=0.5)
    labels = [f"class {i}" for i in range(31)]
    rec.metrics.update(labels=labels, confusion=[[1 if i == j else 0 for j in range(31)] for i in range(31)], n_eval=31)
    fig = charts.confusion_matrix(rec)
    assert fig.data[0].texttemplate is None
    assert fig.layout.height > 500


def test_confusion_matrix_of_a_multi_label_version() -> None:
    rec = record(2, accuracy=0.5, n_eval=10)
    rec.metrics.update(labels=["x", "y"], confusion=[[5, 1, 1, 3], [6, 0, 2, 2]])
    heat = charts.confusion_matrix(rec).data[0]
    assert list(heat.x) == ["True negative", "False positive", "False negative", "True positive"]


def test_per_class_f1_is_sorted_weakest_first(three: list[IterationRecord]) -> None:
    fig = charts.per_class_f1(three[-1])
    (bars,) = fig.data
    assert list(bars.y) == ["loan", "card", "billing"]
    assert list(bars.x) == pytest.approx([0.4, 0.642, 0.9])
    assert "Dashed line: macro-F1 69.2%." in fig.layout.title.text
    assert any(s.x0 == pytest.approx(0.692) for s in fig.layout.shapes)


def test_compare_versions(three: list[IterationRecord]) -> None:
    fig = charts.compare_versions(three[1], three[2])
    assert [t.name for t in fig.data] == ["al-0002-n40", "al-0003-n60"]
    assert "accuracy 70.0%" in fig.layout.title.text and "accuracy 74.2%" in fig.layout.title.text
    assert is_empty_state(charts.compare_versions(three[0], three[0]))


def test_step_timings_are_stacked_in_step_order(three: list[IterationRecord]) -> None:
    fig = charts.step_timings(three)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["read", "train", "upload"]
    assert list(fig.data[0].x) == ["al-0001-n3", "al-0002-n40", "al-0003-n60"]


# -- table ---------------------------------------------------------------------------------------------------
def test_versions_table(three: list[IterationRecord]) -> None:
    table = charts.versions_table([*three, record(4, status="failed", error="Label Studio is down")])
    assert list(table.columns) == list(charts.TABLE_COLUMNS)
    assert list(table["version"]) == ["al-0004-n80", "al-0003-n60", "al-0002-n40", "al-0001-n3"]
    assert table.loc[0, "error"] == "Label Studio is down"
    assert table.loc[1, "accuracy"] == pytest.approx(0.742)
    assert pd.isna(table.loc[3, "accuracy"])
    assert pd.isna(table.loc[2, "kappa"])
    assert table.loc[1, "total seconds"] == 7.5
    assert table["accuracy"].dtype == "float64"
    assert list(charts.versions_table([]).columns) == list(charts.TABLE_COLUMNS)
    assert table.to_csv(index=False).startswith("version,status,trigger,started,labels")


# -- summary ------------------------------------------------------------------------------------------------
def test_summary_without_versions() -> None:
    out = charts.summary([])
    assert out["n_versions"] == 0
    assert out["latest"] is None
    assert out["verdict"].startswith("No model versions yet")
    assert out["history"]["accuracy"] == []


def test_summary_of_an_improving_model(three: list[IterationRecord]) -> None:
    out = charts.summary(three)
    assert out["latest"] == "al-0003-n60"
    assert out["accuracy_text"] == "+4.2 points since al-0002-n40"
    assert out["accuracy_delta"] == pytest.approx(4.2)
    assert "the model is improving" in out["verdict"]
    assert "Mean entropy down from 0.50 to 0.42" in out["verdict"]
    assert "keep labeling" in out["verdict"]
    assert (out["n_labeled"], out["n_labeled_delta"]) == (60, 20)
    assert out["consider_stopping"] is False
    assert out["entropy_delta"] == pytest.approx(-0.08)
    assert out["history"] == {
        "accuracy": [0.70, 0.742],
        "macro_f1": pytest.approx([0.65, 0.692]),
        "n_labeled": [3, 40, 60],
        "mean_entropy": [0.50, 0.42],
        "kappa": [0.93],
    }


def test_summary_of_a_worse_model() -> None:
    out = charts.summary([record(1, accuracy=0.8, entropy=0.3), record(2, accuracy=0.75, entropy=0.4, kappa=0.8)])
    assert out["accuracy_text"] == "-5.0 points since al-0001-n20"
    assert "the model got worse" in out["verdict"]
    assert "Mean entropy up from 0.30 to 0.40" in out["verdict"]


def test_summary_when_the_model_says_stop() -> None:
    out = charts.summary([record(1, accuracy=0.9), record(2, accuracy=0.905, kappa=0.995, stop=True)])
    assert out["consider_stopping"] is True
    assert "about the same" in out["verdict"]
    assert "consider stopping" in out["verdict"]


def test_summary_of_a_single_cold_start() -> None:
    out = charts.summary([record(1, cold=True, n_labeled=3)])
    assert out["n_versions"] == 1
    assert out["accuracy"] is None and out["accuracy_text"] == ""
    assert "al-0001-n3 was a cold start" in out["verdict"]


def test_summary_of_a_model_without_evaluation_labels() -> None:
    out = charts.summary([record(1, cold=True), record(2, accuracy=None, entropy=0.6)])
    assert "no evaluation-set labels yet" in out["verdict"]
    assert "Mean entropy over the unlabeled pool is 0.60" in out["verdict"]


def test_summary_of_the_first_measured_version_warns_about_a_small_evaluation_set() -> None:
    out = charts.summary([record(1, accuracy=0.75, n_eval=12)])
    assert out["accuracy_text"] == "first measured version"
    assert "on only 12 held-out evaluation labels (±25 points)" in out["verdict"]


def test_summary_reports_a_failed_last_iteration(three: list[IterationRecord]) -> None:
    out = charts.summary([*three, record(4, status="failed", error="Label Studio is down")])
    assert out["last_failed"] == "The last iteration (al-0004-n80) failed: Label Studio is down"
    assert out["latest"] == "al-0003-n60"
    assert charts.summary(three)["last_failed"] is None


def test_summary_of_200_versions() -> None:
    out = charts.summary(many(200))
    assert out["n_versions"] == 200
    assert out["latest"] == "al-0200-n4000"
    assert out["accuracy_text"].endswith("since al-0199-n3980")
