"""A small synthetic text dataset and run sizes shared by the simulation and benchmark tests."""

from __future__ import annotations

import numpy as np

SMALL = {"budget": 30, "batch": 6, "start": 6}
TINY = {"budget": 12, "batch": 6, "start": 6}  # two points: enough for shapes and averaging


def synthetic(n_per_class: int = 30, seed: int = 0) -> tuple[list[str], list[str]]:
    """Three classes with their own words plus shared noise words, so a model can learn something."""
    rng = np.random.default_rng(seed)
    own = {c: [f"{c}{i}" for i in range(8)] for c in ("ant", "bee", "cow")}
    shared = [f"w{i}" for i in range(10)]
    texts, labels = [], []
    for c, words in own.items():
        for _ in range(n_per_class):
            texts.append(" ".join([*rng.choice(words, 3), *rng.choice(shared, 3)]))
            labels.append(c)
    return texts, labels
