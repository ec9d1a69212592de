"""Tests for al_core.reports.charts: the figures over model versions, from hand-made iteration records."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import pytest

from al_core.reports import charts
from al_core.store.records import IterationRecord
from tests.unit.records import (
    assert_empty_state_for_a_cold_start_or_none,
    is_empty_state,
    many,
    record,
    stored_as,
    trace,
)

FIGURES_OF_RECORDS = [
    charts.learning_curve,
    charts.uncertainty_by_version,
    charts.stopping_signals,
    charts.step_timings,
]
FIGURES_OF_ONE = [charts.uncertainty_histogram]


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
    assert_empty_state_for_a_cold_start_or_none(make)


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


def test_learning_curve_draws_the_95_percent_intervals_as_error_bars() -> None:
    stored = stored_as(record(2, accuracy=0.75), metrics={"macro_f1_ci": [0.5, 0.8]})
    fig = charts.learning_curve([record(1, accuracy=0.5, n_eval=10, cv=0.8), stored])
    accuracy = trace(fig, "Accuracy (evaluation set)")
    # Wilson of 5 of 10 right, and of 30 of 40 (read from accuracy and n_eval: stored without an interval).
    assert list(accuracy.error_y.arrayminus) == pytest.approx([0.5 - 0.2366, 0.75 - 0.5981], abs=1e-4)
    assert list(accuracy.error_y.array) == pytest.approx([0.7634 - 0.5, 0.8581 - 0.75], abs=1e-4)
    assert "95% interval: 59.8% to 85.8%" in accuracy.customdata[1][1]
    f1 = trace(fig, "Macro-F1 (evaluation set)")
    assert list(f1.error_y.array) == pytest.approx([0.0, 0.1]) and list(f1.error_y.arrayminus) == pytest.approx(
        [0.0, 0.2]
    )
    assert trace(fig, "CV accuracy on actively chosen labels (biased)").error_y.array is None


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
    rec = stored_as(record(2, accuracy=0.7), uncertainty={"histogram_edges": [0.0, 1.0]})
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
    three[2] = stored_as(three[2], uncertainty={"kappa": None})
    fig = charts.stopping_signals(three)
    assert [t.name for t in fig.data] == ["Mean normalized entropy of the pool (0 = sure, 1 = no idea)"]


def test_stopping_signals_axis_covers_negative_kappa() -> None:
    fig = charts.stopping_signals([record(1, entropy=0.5), record(2, entropy=0.5, kappa=-0.2)])
    assert fig.layout.yaxis.range[0] == pytest.approx(-0.25)


def test_step_timings_are_stacked_in_step_order(three: list[IterationRecord]) -> None:
    fig = charts.step_timings(three)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["read", "train", "upload"]
    assert list(fig.data[0].x) == ["al-0001-n3", "al-0002-n40", "al-0003-n60"]


def test_uncertainty_histogram_overlays_the_previous_version(three: list[IterationRecord]) -> None:
    fig = charts.uncertainty_histogram(three[-1], three[-2])
    before, shown = fig.data
    assert before.name.startswith("al-0002-n40") and shown.name.startswith("al-0003-n60")
    assert before.marker.color != shown.marker.color and fig.layout.barmode == "overlay"
    assert "al-0003-n60 vs al-0002-n40" in fig.layout.title.text
    assert len(fig.data) == 2 and fig.layout.showlegend is not False


def test_uncertainty_histogram_says_when_it_shows_one_version(three: list[IterationRecord]) -> None:
    alone = charts.uncertainty_histogram(three[-1])
    assert "al-0003-n60 alone" in alone.layout.title.text and len(alone.data) == 1
    cold = record(2, cold=True)
    without = charts.uncertainty_histogram(three[-1], cold)
    assert len(without.data) == 1 and "al-0003-n60 alone" in without.layout.title.text
    assert "The version before has no histogram to compare with." in without.layout.title.text.replace("<br>", " ")
