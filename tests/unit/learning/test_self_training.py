"""Self-training on confident pool predictions."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.errors import ConfigError
from al_core.learning import self_training
from tests.unit.synthetic import synthetic


def test_confident_rows_are_the_most_confident_above_the_threshold_up_to_the_limit() -> None:
    proba = np.array([[0.95, 0.05], [0.5, 0.5], [0.02, 0.98], [0.91, 0.09], [0.9, 0.1]])
    assert self_training.confident_rows(proba, threshold=0.9, limit=10).tolist() == [2, 0, 3, 4]
    assert self_training.confident_rows(proba, threshold=0.9, limit=2).tolist() == [2, 0]
    assert self_training.confident_rows(proba, threshold=0.99, limit=10).tolist() == []
    assert self_training.confident_rows(np.zeros((0, 2)), limit=3).tolist() == []


def test_a_threshold_outside_zero_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="'threshold' parameter"):
        self_training.confident_rows(np.ones((1, 1)), threshold=0, limit=1)


def test_fit_self_trained_adds_at_most_ratio_times_the_labels() -> None:
    texts, labels = synthetic(20)
    labeled = list(range(0, 60, 6))  # 10 labels over the three classes
    pool = [t for i, t in enumerate(texts) if i not in labeled]
    fitted, added = self_training.fit_self_trained(
        "tfidf-logreg", [texts[i] for i in labeled], [labels[i] for i in labeled], pool, threshold=0.5, ratio=1.0
    )
    assert 0 < added <= 10
    assert fitted.classes == ("ant", "bee", "cow")
    same, none = self_training.fit_self_trained("tfidf-logreg", texts[:6] + texts[-6:], labels[:6] + labels[-6:], [])
    assert none == 0 and same.classes == ("ant", "cow")
