"""Zero-label start: class names as prototypes (pure functions on hand-made vectors)."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.errors import ConfigError
from al_core.learning import prototypes


def test_label_phrase_makes_words_of_a_class_name() -> None:
    assert prototypes.label_phrase("card_payment-fee_charged") == "card payment fee charged"
    assert prototypes.label_phrase("cardPayment") == "card payment"
    assert prototypes.label_phrase("___") == "___"  # nothing left: the name itself


def test_prototype_order_takes_each_class_nearest_text_in_turn() -> None:
    names = np.array([[1.0, 0.0], [0.0, 1.0]])
    texts = np.array([[0.9, 0.1], [1.0, 0.0], [0.6, 0.8], [0.1, 0.99], [0.7, 0.7]])
    texts = texts / np.linalg.norm(texts, axis=1, keepdims=True)
    order = prototypes.prototype_order(texts, names, batch_size=3)
    assert order[:3].tolist() == [1, 3, 0]  # class 0's nearest, class 1's nearest, class 0's second
    assert sorted(order.tolist()) == list(range(5))
    assert order[3:].tolist() == [2, 4]  # the rest: most similar to any name first


def test_prototype_proba_rows_sum_to_one_and_favour_the_nearest_name() -> None:
    names = np.eye(3)
    proba = prototypes.prototype_proba(np.eye(3)[[2, 0]], names)
    assert proba.shape == (2, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba.argmax(axis=1).tolist() == [2, 0]


def test_mismatched_dimensions_and_no_names_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"must share d\. Got \(2, 3\) and \(1, 2\)"):
        prototypes.similarity(np.zeros((2, 3)), np.zeros((1, 2)))
    with pytest.raises(ConfigError, match="one vector per class"):
        prototypes.prototype_order(np.zeros((2, 3)), np.zeros((0, 3)), batch_size=2)
    with pytest.raises(ConfigError, match="batch_size"):
        prototypes.prototype_order(np.zeros((2, 3)), np.zeros((1, 3)), batch_size=0)
