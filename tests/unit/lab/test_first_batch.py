"""The first batch of a simulated run: random, the app's cold start, or the class names."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.errors import ConfigError
from al_core.lab import first_batch
from al_core.learning import embeddings, prototypes
from tests.unit.synthetic import synthetic


def test_random_start_always_holds_two_classes() -> None:
    labels = ["a"] * 50 + ["b"]
    for seed in range(5):
        chosen = first_batch.random_start(labels, 3, seed)
        assert len(chosen) == 3 and len({labels[i] for i in chosen}) == 2


def test_names_start_takes_each_class_nearest_text_in_turn() -> None:
    texts, labels = synthetic(10)
    chosen = first_batch.first_batch(texts, labels, start=6, seed=0, first="names", model="minilm-logreg")
    encoder = embeddings.get_encoder()
    names = encoder.encode(["ant", "bee", "cow"])
    expected = prototypes.prototype_order(encoder.encode(texts), names, batch_size=6)[:6]
    assert chosen == [int(i) for i in expected]
    assert len({labels[i] for i in chosen}) >= 2


def test_names_start_needs_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "unavailable_reason", lambda: "Sentence embeddings are not installed.")
    with pytest.raises(ConfigError, match="class names needs sentence embeddings"):
        first_batch.names_start(["a b"], ["x"], 1, 0, "tfidf-logreg")


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"must be one of \['random', 'typical', 'names'\]\. Got 'best'"):
        first_batch.first_batch(["a"], ["x"], start=1, seed=0, first="best", model="tfidf-logreg")
    assert np.array_equal(first_batch.FIRST_BATCH, ("random", "typical", "names"))
