"""Tests for al_core.reports.class_charts: one version's per-class figures, from hand-made iteration records."""

from __future__ import annotations

from typing import Any

import pytest

from al_core.reports import class_charts
from al_core.store.records import IterationRecord
from tests.unit.records import LABELS, assert_empty_state_for_a_cold_start_or_none, is_empty_state, record, stored_as

FIGURES_OF_ONE = [class_charts.class_balance, class_charts.confusion_matrix, class_charts.per_class_f1]


@pytest.mark.parametrize("make", FIGURES_OF_ONE)
def test_class_figures_show_an_empty_state_for_a_cold_start_or_none(make: Any) -> None:
    assert_empty_state_for_a_cold_start_or_none(make)


# -- class balance, confusion, F1 --------------------------------------------------------------------------
def test_class_balance_shares(three: list[IterationRecord]) -> None:
    fig = class_charts.class_balance(three[-1], LABELS)
    train, predicted = fig.data
    assert list(train.y) == LABELS
    assert list(train.x) == pytest.approx([55 / 60, 3 / 60, 2 / 60])
    assert list(predicted.x) == pytest.approx([0.6, 0.3, 0.1])
    assert train.name == "Training labels (60)"
    assert fig.layout.barmode == "group"


def test_class_balance_counts_multi_label_combinations_per_label() -> None:
    rec = stored_as(
        record(2, accuracy=0.7),
        counts={"multi_label": True},
        uncertainty={"predicted_class_counts": {"billing|card": 10, "card": 5, "other|thing": 1}},
    )
    fig = class_charts.class_balance(rec, LABELS)
    predicted = fig.data[1]
    shares = dict(zip(predicted.y, predicted.x, strict=True))
    assert shares["billing"] == pytest.approx(10 / 26)
    assert shares["card"] == pytest.approx(15 / 26)
    assert shares["other|thing"] == pytest.approx(1 / 26)  # not all parts are known labels: kept whole


def test_class_names_are_shown_as_text_not_markup() -> None:
    rec = stored_as(record(2, accuracy=0.7), metrics={"train_class_counts": {"<b>bold</b>": 3, "Q&A": 2}})
    fig = class_charts.class_balance(rec, ["<b>bold</b>", "Q&A"])
    assert list(fig.data[0].y)[:2] == ["&lt;b&gt;bold&lt;/b&gt;", "Q&amp;A"]  # Plotly shows the entities as text


def test_confusion_matrix_rows_true_columns_predicted(three: list[IterationRecord]) -> None:
    fig = class_charts.confusion_matrix(three[-1])
    (heat,) = fig.data
    assert list(heat.y) == LABELS
    assert list(heat.x) == LABELS
    assert [list(r) for r in heat.text] == [[20, 2, 0], [3, 8, 1], [1, 1, 4]]
    assert heat.z[1][1] == pytest.approx(8 / 12)
    assert heat.texttemplate == "%{text}"
    assert fig.layout.yaxis.autorange == "reversed"


def test_confusion_matrix_hides_cell_text_above_30_classes() -> None:
    labels = [f"class {i}" for i in range(31)]
    confusion = [[1 if i == j else 0 for j in range(31)] for i in range(31)]
    rec = stored_as(record(2, accuracy=0.5), metrics={"labels": labels, "confusion": confusion, "n_eval": 31})
    fig = class_charts.confusion_matrix(rec)
    assert fig.data[0].texttemplate is None
    assert fig.layout.height > 500


def test_confusion_matrix_of_a_multi_label_version() -> None:
    rec = stored_as(
        record(2, accuracy=0.5, n_eval=10),
        counts={"multi_label": True},
        metrics={"labels": ["x", "y"], "confusion": [[5, 1, 1, 3], [6, 0, 2, 2]]},
    )
    heat = class_charts.confusion_matrix(rec).data[0]
    assert list(heat.x) == ["True negative", "False positive", "False negative", "True positive"]


def test_per_class_f1_is_sorted_weakest_first(three: list[IterationRecord]) -> None:
    fig = class_charts.per_class_f1(three[-1])
    (bars,) = fig.data
    assert list(bars.y) == ["loan", "card", "billing"]
    assert list(bars.x) == pytest.approx([0.4, 0.642, 0.9])
    assert "Dashed line: macro-F1 69.2%." in fig.layout.title.text
    assert any(s.x0 == pytest.approx(0.692) for s in fig.layout.shapes)


def test_compare_versions(three: list[IterationRecord]) -> None:
    fig = class_charts.compare_versions(three[1], three[2])
    assert [t.name for t in fig.data] == ["al-0002-n40", "al-0003-n60"]
    assert "accuracy 70.0%" in fig.layout.title.text and "accuracy 74.2%" in fig.layout.title.text
    assert is_empty_state(class_charts.compare_versions(three[0], three[0]))


def test_a_class_at_zero_f1_is_a_zero_bar_with_its_value() -> None:
    rec = stored_as(record(2, accuracy=0.7), metrics={"per_class_f1": {"billing": 0.9, "card": 0.0, "loan": 0.5}})
    (bars,) = class_charts.per_class_f1(rec).data
    assert list(bars.y) == ["card", "loan", "billing"] and list(bars.x) == [0.0, 0.5, 0.9]
    assert list(bars.text) == ["0%", "50%", "90%"] and bars.textposition == "outside"
    assert bars.marker.line.width == 2  # a zero-length bar still draws its outline at 0
    first, second = class_charts.compare_versions(record(1, accuracy=0.6), rec).data
    at = list(second.y).index("card")
    assert second.x[at] == 0.0 and second.text[at] == "0%"
