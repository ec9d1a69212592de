"""SetFit's pairs (the measurement itself fine-tunes the encoder: too slow for a unit test)."""

from __future__ import annotations

from collections import Counter

from bench import setfit_cost


def test_pairs_give_every_text_positives_and_negatives() -> None:
    labels = ["a", "a", "b", "c"]
    triples = setfit_cost.pairs(labels, iterations=5, seed=0)
    assert Counter(t for _, _, t in triples) == {1.0: 20, 0.0: 20}
    for i, j, target in triples:
        assert (labels[i] == labels[j]) == (target == 1.0)
    assert triples == setfit_cost.pairs(labels, iterations=5, seed=0)
