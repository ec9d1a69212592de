"""Likely label errors, confident-learning style: out-of-fold probabilities, then self-confidence against
per-class thresholds. Pure: texts and labels in, arrays and typed results out.

Method (Northcutt, Jiang and Chuang, "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 70,
2021): every labeled task is predicted by a model that never saw it (``out_of_fold_proba``: stratified k-fold
cross-validation with the project's model). The threshold of class j is the mean out-of-fold probability of j
over the tasks labeled j (the model's average *self-confidence* on that class). A task is *confidently* of class
j when p(j) reaches j's threshold; among such classes the most probable is its confident class. A task whose
confident class differs from its given label is an off-diagonal entry of the *confident joint*: a likely label
error (``find_issues``). Issues are ranked by self-confidence, the out-of-fold probability of the given label,
lowest first; ``score = 1 - self-confidence`` (higher = more likely wrong).

Single-label only: for multi-label projects the method differs (one binary problem per label) and is not built.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from al_core.errors import ConfigError, NotEnoughData
from al_core.learning import models
from al_core.learning.evaluation import stratified_folds
from al_core.validation import check_int

MIN_CLASS_SIZE = 3  # a task of a smaller class is not ranked: its class is barely in the other folds' training
FoldProgress = Callable[[int, int], None]  # (folds done, folds)


@dataclass(frozen=True)
class OutOfFold:
    """Out-of-fold probabilities: ``proba[i, j]`` is P(``classes[j]``) for example i by a model fitted without it
    (float64, shape (n, n_classes); a class missing from a fold's training part gets 0 there). ``ranked`` marks the
    examples whose class has at least ``MIN_CLASS_SIZE`` examples; the others are not ranked (``n_rare``)."""

    classes: tuple[str, ...]
    proba: np.ndarray
    given: np.ndarray  # index into ``classes`` of each example's given label
    ranked: np.ndarray  # bool, shape (n,)
    folds: int

    @property
    def n_rare(self) -> int:
        """Examples left out of the ranking: their class has fewer than ``MIN_CLASS_SIZE`` examples."""
        return int((~self.ranked).sum())


@dataclass(frozen=True)
class Issue:
    """One likely label error: ``index`` into the inputs, the ``given`` and ``suggested`` (confident) labels,
    ``self_confidence`` = out-of-fold P(given) in [0, 1] and ``score = 1 - self_confidence``."""

    index: int
    given: str
    suggested: str
    self_confidence: float
    score: float


@dataclass(frozen=True)
class Issues:
    """Every ranked example's score (``scores``, NaN where not ranked), the per-class ``thresholds`` (mean
    self-confidence per class) and the ``issues``: the confident joint's off-diagonal, most likely error first."""

    scores: np.ndarray
    thresholds: Mapping[str, float]
    issues: tuple[Issue, ...]

    def ranking(self) -> np.ndarray:
        """Indices of every ranked example, most likely error first: the issues, then the rest by score."""
        flagged = [i.index for i in self.issues]
        seen = set(flagged)
        rest = [int(i) for i in np.argsort(-np.nan_to_num(self.scores, nan=-1.0), kind="stable") if i not in seen]
        return np.array(flagged + [i for i in rest if not np.isnan(self.scores[i])], dtype=np.intp)


def _splits(given: np.ndarray, folds: int, random_state: int) -> list[tuple[np.ndarray, np.ndarray]]:
    largest = max(Counter(given.tolist()).values())
    n_splits = min(folds, largest)
    if n_splits < 2:
        raise NotEnoughData(
            f"Finding label errors needs a class with at least 2 labeled tasks; the largest has {largest}. Label more."
        )
    return stratified_folds(given, n_splits, random_state)


def out_of_fold_proba(
    model_name: str,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    params: Mapping[str, Any] | None = None,
    folds: int = 5,
    random_state: int = 0,
    on_fold: FoldProgress | None = None,
) -> OutOfFold:
    """Predict every example with model ``model_name`` fitted on the other folds (stratified, shuffled).

    Uses ``min(folds, size of the largest class)`` folds. Raises ConfigError for an unknown model, bad parameters,
    multi-label labels or mismatched lengths; NotEnoughData for fewer than 2 classes or no class of 2 examples.
    """
    check_int("folds", folds, 2)
    models.resolve_params(model_name, params)
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise ConfigError(f"Got {len(texts)} texts but {len(labels)} labels; they must match one to one.")
    if any(not isinstance(label, str) for label in labels):
        raise ConfigError("Label errors are found for single-label tasks only: every label must be a str.")
    classes = tuple(sorted(set(labels)))
    if len(classes) < 2:
        raise NotEnoughData(f"Finding label errors needs at least 2 classes; got {len(classes)} ({list(classes)}).")
    column = {c: j for j, c in enumerate(classes)}
    given = np.array([column[label] for label in labels], dtype=np.intp)
    proba = np.zeros((len(texts), len(classes)), dtype=np.float64)
    splits = _splits(given, folds, random_state)
    for done, (train, test) in enumerate(splits, start=1):
        fitted = models.fit_model(
            model_name,
            [texts[i] for i in train],
            [labels[i] for i in train],
            params=params,
            random_state=random_state,
        )
        part = fitted.predict_proba([texts[i] for i in test])
        proba[np.ix_(test, [column[c] for c in fitted.classes])] = part
        if on_fold:
            on_fold(done, len(splits))
    counts = np.bincount(given, minlength=len(classes))
    return OutOfFold(classes, proba, given, counts[given] >= MIN_CLASS_SIZE, len(splits))


def find_issues(oof: OutOfFold) -> Issues:
    """The confident joint's off-diagonal among the ranked examples of ``oof``, most likely error first (lowest
    self-confidence; ties by index). Classes with no ranked example get no threshold and never confidently win."""
    proba, given, ranked = oof.proba, oof.given, oof.ranked
    n_classes = len(oof.classes)
    thresholds = np.full(n_classes, np.inf)
    for j in range(n_classes):
        members = ranked & (given == j)
        if members.any():
            thresholds[j] = proba[members, j].mean()
    self_conf = proba[np.arange(len(given)), given] if len(given) else np.zeros(0)
    scores = np.where(ranked, 1.0 - self_conf, np.nan)
    confident = np.where(proba >= thresholds[None, :], proba, -1.0)
    best = np.argmax(confident, axis=1) if len(given) else np.zeros(0, dtype=np.intp)
    has_one = confident.max(axis=1) >= 0 if len(given) else np.zeros(0, dtype=bool)
    flagged = np.flatnonzero(ranked & has_one & (best != given))
    order = sorted(flagged.tolist(), key=lambda i: (self_conf[i], i))
    issues = tuple(
        Issue(
            index=int(i),
            given=oof.classes[given[i]],
            suggested=oof.classes[best[i]],
            self_confidence=float(self_conf[i]),
            score=float(1.0 - self_conf[i]),
        )
        for i in order
    )
    shown = {oof.classes[j]: float(t) for j, t in enumerate(thresholds) if np.isfinite(t)}
    return Issues(scores, shown, issues)


def precision_recall_at(ranking: Sequence[int], truth: set[int], k: int) -> tuple[float, float]:
    """(precision, recall) of the first ``k`` of ``ranking`` against the true errors ``truth`` (indices).

    Precision is over ``min(k, len(ranking))`` items (0.0 when none); recall is 0.0 when ``truth`` is empty."""
    check_int("k", k, 0)
    top = list(ranking)[:k]
    hits = sum(1 for i in top if i in truth)
    return (hits / len(top) if top else 0.0), (hits / len(truth) if truth else 0.0)
