"""Confident learning: golden tests on hand-made probability tables, and an injected-noise case end to end."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.errors import ConfigError, NotEnoughData
from al_core.learning.label_issues import OutOfFold, find_issues, out_of_fold_proba, precision_recall_at
from tests.unit.synthetic import synthetic


def _oof(proba: list[list[float]], given: list[int], ranked: list[bool] | None = None) -> OutOfFold:
    ranked = [True] * len(given) if ranked is None else ranked
    return OutOfFold(("a", "b", "c"), np.array(proba), np.array(given), np.array(ranked), 5)


def test_golden_table_flags_the_confident_joint_off_diagonal_lowest_self_confidence_first():
    proba = [
        [0.9, 0.05, 0.05],  # 0: a, sure: fine
        [0.8, 0.1, 0.1],  # 1: a, fine
        [0.1, 0.85, 0.05],  # 2: labeled a, confidently b -> issue (self-confidence 0.1)
        [0.1, 0.8, 0.1],  # 3: b, fine
        [0.2, 0.7, 0.1],  # 4: b, fine
        [0.65, 0.25, 0.1],  # 5: labeled b, confidently a (0.65 >= t_a) -> issue (0.25)
        [0.05, 0.05, 0.9],  # 6: c, fine
        [0.3, 0.3, 0.4],  # 7: c, unsure but nothing reaches another threshold -> not an issue
    ]
    given = [0, 0, 0, 1, 1, 1, 2, 2]
    found = find_issues(_oof(proba, given))
    # thresholds: a = mean(0.9, 0.8, 0.1) = 0.6; b = mean(0.8, 0.7, 0.25) = 0.583; c = mean(0.9, 0.4) = 0.65
    assert found.thresholds == pytest.approx({"a": 0.6, "b": 1.75 / 3, "c": 0.65})
    assert [(i.index, i.given, i.suggested) for i in found.issues] == [(2, "a", "b"), (5, "b", "a")]
    assert [i.score for i in found.issues] == pytest.approx([0.9, 0.75])
    assert found.issues[0].self_confidence == pytest.approx(0.1)
    assert found.ranking().tolist()[:2] == [2, 5] and sorted(found.ranking().tolist()) == list(range(8))


def test_unranked_examples_are_neither_flagged_nor_used_for_thresholds():
    proba = [[0.9, 0.1, 0.0], [0.8, 0.2, 0.0], [0.1, 0.9, 0.0], [0.7, 0.3, 0.0]]
    found = find_issues(_oof(proba, [0, 0, 1, 2], ranked=[True, True, True, False]))
    assert "c" not in found.thresholds and found.issues == ()
    assert np.isnan(found.scores[3]) and 3 not in found.ranking().tolist()


def test_injected_flips_are_found_out_of_fold():
    texts, labels = synthetic(n_per_class=40, seed=1)
    rng = np.random.default_rng(0)
    flipped = set(rng.choice(len(labels), size=6, replace=False).tolist())
    noisy = [
        (sorted({"ant", "bee", "cow"} - {label})[rng.integers(2)] if i in flipped else label)
        for i, label in enumerate(labels)
    ]
    folds_seen = []
    oof = out_of_fold_proba("tfidf-logreg", texts, noisy, on_fold=lambda d, t: folds_seen.append((d, t)))
    assert folds_seen == [(d, 5) for d in range(1, 6)] and oof.proba.shape == (120, 3)
    found = find_issues(oof)
    precision, recall = precision_recall_at(found.ranking(), flipped, 6)
    assert precision >= 5 / 6 and recall >= 5 / 6  # 5% noise: the top 6 are (nearly) exactly the flips
    for issue in found.issues:
        if issue.index in flipped:
            assert issue.suggested == labels[issue.index]  # the suggestion is the true label


def test_rare_classes_are_counted_not_ranked():
    texts, labels = synthetic(n_per_class=10)
    oof = out_of_fold_proba("tfidf-cnb", [*texts, "dog0 dog1"], [*labels, "dog"], folds=3)
    assert oof.folds == 3 and oof.n_rare == 1 and not oof.ranked[-1]


def test_bad_inputs_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="single-label tasks only"):
        out_of_fold_proba("tfidf-logreg", ["a b", "c d"], [("x",), ("y",)])
    with pytest.raises(NotEnoughData, match="at least 2 classes"):
        out_of_fold_proba("tfidf-logreg", ["a b", "c d"], ["x", "x"])
    with pytest.raises(NotEnoughData, match="largest has 1"):
        out_of_fold_proba("tfidf-logreg", ["a b", "c d"], ["x", "y"])
    with pytest.raises(ConfigError, match="must match"):
        out_of_fold_proba("tfidf-logreg", ["a b"], ["x", "y"])


def test_precision_recall_at_k():
    assert precision_recall_at([3, 1, 2, 0], {1, 0}, 2) == (0.5, 0.5)
    assert precision_recall_at([3, 1], {1}, 10) == (0.5, 1.0)
    assert precision_recall_at([], set(), 3) == (0.0, 0.0)
