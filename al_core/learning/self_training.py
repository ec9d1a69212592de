"""Self-training: refit on the labels plus the pool's most confident predictions (issue #16).

Pseudo-labeling in its simplest form (Yarowsky, 1995, *Unsupervised Word Sense Disambiguation Rivaling
Supervised Methods*, ACL; Lee, 2013, *Pseudo-Label*, ICML workshop): after a fit, pool texts whose top
probability is at least ``threshold`` are added with their predicted class, at most ``ratio`` times the
number of real labels (most confident first, so a few labels are not drowned), and the model is refitted.

Pure: texts and labels in, a fitted model out (single-label only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from al_core.learning import models
from al_core.validation import check_float

THRESHOLD = 0.9
RATIO = 1.0


def confident_rows(proba: np.ndarray, *, threshold: float = THRESHOLD, limit: int) -> np.ndarray:
    """Rows of ``proba`` (n, k) whose top probability is >= ``threshold``, most confident first, at most
    ``limit`` of them (ties by position). Returns an int array of row positions."""
    check_float("threshold", threshold, 0, 1, include_low=False)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.size == 0 or limit <= 0:
        return np.zeros(0, dtype=np.intp)
    top = proba.max(axis=1)
    order = np.argsort(-top, kind="stable")
    return order[top[order] >= threshold][:limit].astype(np.intp)


def fit_self_trained(
    name: str,
    texts: Sequence[str],
    labels: Sequence[str],
    pool: Sequence[str],
    *,
    threshold: float = THRESHOLD,
    ratio: float = RATIO,
    random_state: int = 0,
    **fit_kw: Any,
) -> tuple[models.FittedModel, int]:
    """Fit ``name`` on the labels, add confident pool predictions (see the module), refit.

    Returns (the refitted model, the number of pseudo-labels added; 0 = the first fit is returned).
    """
    fitted = models.fit_model(name, texts, labels, random_state=random_state, **fit_kw)
    if not len(pool):
        return fitted, 0
    proba = fitted.predict_proba(pool)
    rows = confident_rows(proba, threshold=threshold, limit=int(ratio * len(texts)))
    if not rows.size:
        return fitted, 0
    pseudo = [fitted.classes[i] for i in np.argmax(proba[rows], axis=1)]
    again = models.fit_model(
        name, [*texts, *(pool[i] for i in rows)], [*labels, *pseudo], random_state=random_state, **fit_kw
    )
    return again, int(rows.size)
