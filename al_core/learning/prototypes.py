"""A zero-label start from the class names: embed each name as its class's prototype (issue #16).

Before any label, a labeling config already names the classes. Embedded with the same sentence encoder
as the texts, a name is a rough prototype of its class (the "label-name" zero-shot idea of Yin et al.,
2019, *Benchmarking Zero-shot Text Classification*, EMNLP, in a nearest-prototype form; prototypes as in
Snell et al., 2017, *Prototypical Networks*). The first batch then holds, for every class in turn, the
text nearest its name, so a first model sees every class instead of the densest clusters only.

Pure: arrays in, arrays out. Vectors are expected L2-normalized (``embeddings.Encoder.encode`` gives them
so), so a dot product is the cosine similarity.
"""

from __future__ import annotations

import re

import numpy as np

from al_core.errors import ConfigError
from al_core.validation import check_int


def label_phrase(label: str) -> str:
    """A class name as words to embed: ``"card_payment-fee"`` -> ``"card payment fee"`` (camelCase split too)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(label))
    return " ".join(re.sub(r"[_\-./:]+", " ", spaced).split()).lower() or str(label)


def _check(text_vectors: np.ndarray, name_vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    texts, names = np.asarray(text_vectors, dtype=np.float64), np.asarray(name_vectors, dtype=np.float64)
    if texts.ndim != 2 or names.ndim != 2 or texts.shape[1] != names.shape[1]:
        raise ConfigError(
            f"'text_vectors' (n, d) and 'name_vectors' (k, d) must share d. Got {texts.shape} and {names.shape}."
        )
    if names.shape[0] == 0:
        raise ConfigError("'name_vectors' must hold one vector per class. Got none.")
    return texts, names


def similarity(text_vectors: np.ndarray, name_vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity of every text to every class name: shape (n_texts, n_classes), in [-1, 1]."""
    texts, names = _check(text_vectors, name_vectors)
    return texts @ names.T


def prototype_proba(text_vectors: np.ndarray, name_vectors: np.ndarray, temperature: float = 0.05) -> np.ndarray:
    """Zero-shot class probabilities, shape (n_texts, n_classes): softmax of cosine similarity / ``temperature``."""
    scores = similarity(text_vectors, name_vectors) / temperature
    scores -= scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=1, keepdims=True)


def prototype_order(text_vectors: np.ndarray, name_vectors: np.ndarray, *, batch_size: int) -> np.ndarray:
    """An informed first batch: classes in turn, each giving its nearest remaining text (by cosine to its name).

    The first ``batch_size`` positions visit the classes round-robin (class order as given), each taking the
    most similar text not yet taken; every other text follows, most similar to any name first (ties by
    position). Returns a permutation of ``range(n_texts)``. Raises ConfigError on mismatched shapes.
    """
    batch_size = check_int("batch_size", batch_size, 1)
    sims = similarity(text_vectors, name_vectors)
    n = sims.shape[0]
    ranked = np.argsort(-sims, axis=0, kind="stable")  # per class, texts nearest first
    taken = np.zeros(n, dtype=bool)
    first: list[int] = []
    cursor = np.zeros(sims.shape[1], dtype=np.intp)
    while len(first) < min(batch_size, n):
        for c in range(sims.shape[1]):
            while cursor[c] < n and taken[ranked[cursor[c], c]]:
                cursor[c] += 1
            if cursor[c] < n and len(first) < batch_size:
                taken[ranked[cursor[c], c]] = True
                first.append(int(ranked[cursor[c], c]))
    rest = np.flatnonzero(~taken)
    rest = rest[np.argsort(-sims[rest].max(axis=1), kind="stable")] if rest.size else rest
    return np.concatenate([np.asarray(first, dtype=np.intp), rest]).astype(np.intp)
