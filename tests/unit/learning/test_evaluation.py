"""Tests for al_core.learning.evaluation: hand-computed metrics, cross-validation and stability."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score

from al_core.errors import ConfigError, NotEnoughData
from al_core.learning import evaluation
from al_core.learning.evaluation import (
    UncertaintySummary,
    agreement,
    choose_eval_set,
    cross_val_accuracy,
    default_eval_size,
    measure,
    prediction_stability,
    summarize_uncertainty,
)


@pytest.mark.parametrize(("n", "size"), [(0, 0), (5, 5), (20, 20), (100, 20), (1000, 100), (2500, 250), (9000, 300)])
def test_default_eval_size(n: int, size: int) -> None:
    assert default_eval_size(n) == size


def test_choose_eval_set_is_fixed_sorted_and_order_independent() -> None:
    ids = list(range(100, 400))
    chosen = choose_eval_set(ids, random_state=3)
    assert len(chosen) == 30
    assert list(chosen) == sorted(chosen)
    assert set(chosen) <= set(ids)
    assert chosen == choose_eval_set(list(reversed(ids)), random_state=3)
    assert chosen != choose_eval_set(ids, random_state=4)
    assert choose_eval_set(ids, size=0) == ()


def test_choose_eval_set_errors() -> None:
    with pytest.raises(NotEnoughData, match=r"Cannot draw 5 evaluation tasks from 3 tasks\. Choose a size <= 3\."):
        choose_eval_set([1, 2, 3], size=5)
    with pytest.raises(ConfigError, match=r"Task ids must be unique; repeated: \[2\]"):
        choose_eval_set([1, 2, 2])
    with pytest.raises(ConfigError, match=r"The 'size' parameter must be an int in \[0, inf\)\. Got -1 instead\."):
        choose_eval_set([1, 2], size=-1)


def test_measure_single_label_hand_computed() -> None:
    y_true = ["a", "a", "b", "b", "c"]
    y_pred = ["a", "b", "b", "b", "a"]
    metrics = measure(y_true, y_pred, ["a", "b", "c"])
    assert metrics is not None
    assert metrics.n_eval == 5
    assert metrics.accuracy == pytest.approx(0.6)
    assert metrics.confusion == ((1, 1, 0), (0, 2, 0), (1, 0, 0))
    assert metrics.per_class_f1 == pytest.approx({"a": 0.5, "b": 0.8, "c": 0.0})
    assert metrics.macro_f1 == pytest.approx(1.3 / 3)
    assert metrics.macro_f1 == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert json.loads(json.dumps(metrics.to_dict()))["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_measure_skips_absent_labels_in_f1_and_appends_unknown_ones() -> None:
    metrics = measure(["a", "a"], ["a", "z"], ["b", "a"])
    assert metrics is not None
    assert metrics.labels == ("b", "a", "z")
    assert metrics.per_class_f1 == pytest.approx({"a": 2 / 3, "z": 0.0})
    assert metrics.confusion == ((0, 0, 0), (0, 1, 1), (0, 0, 0))


def test_measure_multi_label_hand_computed() -> None:
    y_true = [("a",), ("a", "b"), ("b",)]
    y_pred = [("a",), ("a",), ("b", "a")]
    metrics = measure(y_true, y_pred, ["a", "b"], multi_label=True)
    assert metrics is not None
    assert metrics.accuracy == pytest.approx(1 / 3)
    assert metrics.confusion == ((0, 1, 0, 2), (1, 0, 1, 1))  # (tn, fp, fn, tp) per label
    assert metrics.per_class_f1 == pytest.approx({"a": 0.8, "b": 2 / 3})
    assert metrics.macro_f1 == pytest.approx((0.8 + 2 / 3) / 2)
    json.dumps(metrics.to_dict())


def test_measure_empty_and_mismatch() -> None:
    assert measure([], [], ["a"]) is None
    with pytest.raises(ConfigError, match=r"Got 2 true labels but 1 predictions"):
        measure(["a", "b"], ["a"], ["a", "b"])


TOPICS = {
    "travel": [
        "flight to paris",
        "plane ticket refund",
        "book a flight",
        "delayed flight",
        "airport transfer",
    ],
    "food": ["order a pizza", "cold burger", "sushi dinner", "pizza delivery", "lunch menu"],
    "money": ["bank transfer", "card payment", "account balance", "bank fees", "payment declined"],
}


def toy_corpus() -> tuple[list[str], list[str]]:
    texts = [text for items in TOPICS.values() for text in items]
    labels = [label for label, items in TOPICS.items() for _ in items]
    return texts, labels


def test_cross_val_accuracy_is_a_fraction() -> None:
    texts, labels = toy_corpus()
    accuracy = cross_val_accuracy("tfidf-logreg", texts, labels, random_state=0)
    assert accuracy is not None and 0.0 <= accuracy <= 1.0
    assert accuracy == cross_val_accuracy("tfidf-logreg", texts, labels, random_state=0)


def test_cross_val_accuracy_tolerates_a_singleton_class_but_not_too_few_labels() -> None:
    texts, labels = toy_corpus()
    assert cross_val_accuracy("tfidf-svm", texts[:11], labels[:11], folds=3) is not None  # "money" has 1
    assert cross_val_accuracy("tfidf-logreg", ["a b", "c d", "e f"], ["x", "y", "z"]) is None
    assert cross_val_accuracy("tfidf-logreg", texts[:5], labels[:5]) is None  # a single class


def test_cross_val_accuracy_multi_label_and_errors() -> None:
    texts, labels = toy_corpus()
    multi = [(label,) if i % 4 else (label, "urgent") for i, label in enumerate(labels)]
    accuracy = cross_val_accuracy("tfidf-cnb", texts, multi, multi_label=True, folds=3)
    assert accuracy is not None and 0.0 <= accuracy <= 1.0
    with pytest.raises(ConfigError, match=r"The 'folds' parameter must be an int in \[2, inf\)\. Got 1 instead\."):
        cross_val_accuracy("tfidf-cnb", texts, labels, folds=1)
    with pytest.raises(ConfigError, match=r"The 'model' parameter must be one of"):
        cross_val_accuracy("bert", texts, labels)


def test_agreement() -> None:
    assert agreement({1: "a", 2: "b", 3: "c"}, {2: "b", 3: "x", 4: "y"}) == (0.5, 2)
    assert agreement({1: "a"}, {2: "a"}) == (None, 0)
    assert agreement({1: ("a", "b")}, {1: ("b", "a")}) == (1.0, 1)


def test_summarize_uncertainty() -> None:
    info = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    proba = np.array([[1.0, 0.0], [0.9, 0.1], [0.5, 0.5], [0.7, 0.3], [0.5, 0.5]])
    summary = summarize_uncertainty(info, proba)
    assert isinstance(summary, UncertaintySummary)
    assert summary.n == 5
    assert summary.quantiles["p50"] == pytest.approx(0.5)
    assert summary.quantiles["p05"] == pytest.approx(0.05)
    assert sum(summary.histogram_counts) == 5
    assert len(summary.histogram_counts) == 20 and len(summary.histogram_edges) == 21
    assert summary.histogram_counts[0] == 1 and summary.histogram_counts[-1] == 1
    assert summary.top_probability_quantiles["p50"] == pytest.approx(0.7)
    assert 0.0 < summary.mean_normalized_entropy < 1.0
    assert json.loads(json.dumps(summary.to_dict()))["n"] == 5


def test_summarize_uncertainty_empty_and_mismatch() -> None:
    summary = summarize_uncertainty(np.zeros(0), np.zeros((0, 3)))
    assert summary.n == 0 and summary.quantiles == {} and summary.mean_normalized_entropy is None
    with pytest.raises(ConfigError, match=r"'info' has 2 values but 'proba' has shape \(3, 2\)"):
        summarize_uncertainty(np.zeros(2), np.full((3, 2), 0.5))


def test_prediction_stability_matches_sklearn_kappa() -> None:
    previous = {1: "a", 2: "a", 3: "b", 4: "b", 5: "c", 6: "c", 9: "a"}
    current = {1: "a", 2: "b", 3: "b", 4: "b", 5: "c", 6: "a", 7: "z"}
    changed, kappa = prediction_stability(previous, current)
    assert changed == pytest.approx(2 / 6)
    expected = cohen_kappa_score(["a", "a", "b", "b", "c", "c"], ["a", "b", "b", "b", "c", "a"])
    assert kappa == pytest.approx(expected)


def test_prediction_stability_degenerate_cases() -> None:
    assert prediction_stability({1: "a", 2: "a"}, {1: "a", 2: "a"}) == (0.0, 1.0)
    assert prediction_stability({1: "a", 2: "a"}, {1: "b", 2: "b"}) == (1.0, 0.0)
    assert prediction_stability({1: "a"}, {2: "a"}) == (None, None)
    assert prediction_stability({1: ("x", "y")}, {1: ("y", "x")}) == (0.0, 1.0)


# -- uncertainty of a measurement -------------------------------------------------------------------------------
def test_uncertainty_gives_the_intervals_and_each_tasks_outcome() -> None:
    truth = ["a"] * 8 + ["b"] * 2
    predicted = ["a"] * 7 + ["b"] + ["b", "a"]
    sure = evaluation.uncertainty(range(100, 110), truth, predicted, [0.91234] * 10, ["a", "b"])
    assert sure.accuracy_ci == pytest.approx((0.4902, 0.9433), abs=1e-4)  # Wilson, 8 of 10 right
    low, high = sure.macro_f1_ci
    assert 0 <= low < 0.69 < high <= 1  # macro-F1 of the sample: (14/15 + 1/2) / 2 = 0.717
    assert sure.outcomes[100] == ("a", True, 0.9123, "a") and sure.outcomes[107] == ("b", False, 0.9123, "a")
    assert sum(outcome[1] for outcome in sure.outcomes.values()) == 8
    assert sure.to_dict()["eval_outcomes"][109] == ["a", False, 0.9123, "b"]


def test_uncertainty_of_multi_label_sets_compares_them_as_sets() -> None:
    sure = evaluation.uncertainty(
        [1, 2], [("a", "b"), ("a",)], [("b", "a"), ("b",)], [0.8, 0.6], ["a", "b"], multi_label=True
    )
    assert sure.outcomes == {1: ("a|b", True, 0.8, "a|b"), 2: ("b", False, 0.6, "a")}
    assert sure.macro_f1_ci is None and sure.accuracy_ci is not None


def test_uncertainty_refuses_misaligned_inputs() -> None:
    with pytest.raises(ConfigError, match="Got 2 task ids, 1 true labels, 1 predictions and 1 confidences"):
        evaluation.uncertainty([1, 2], ["a"], ["a"], [0.5], ["a"])


def test_accuracy_sentence() -> None:
    assert evaluation.accuracy_sentence(None, 0, None) == "no evaluation-set labels yet"
    assert evaluation.accuracy_sentence(0.8, 20, [0.584, 0.919]) == (
        "80.0% accuracy on 20 evaluation-set labels (95% interval 58.4%-91.9%; about 225 more labels for +-5 points)"
    )
    assert (
        evaluation.accuracy_sentence(0.5, 400, None)
        == "50.0% accuracy on 400 evaluation-set labels (within +-5 points)"
    )
