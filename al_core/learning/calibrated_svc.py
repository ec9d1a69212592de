"""A linear SVM with calibrated probabilities that also fits when a class has one or two examples.

scikit-learn's ``CalibratedClassifierCV`` needs every class in every fold; with a handful of labels (the
start of active learning) a class often has fewer examples than folds. This estimator picks the folds from
the smallest class and duplicates single examples, so ``tfidf-svm`` works from the first labels on.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC


class CalibratedLinearSVC(ClassifierMixin, BaseEstimator):
    """LinearSVC with cross-validated sigmoid calibration that also works when a class is tiny.

    Uses ``min(3, smallest class size)`` stratified folds. A class with a single example is duplicated
    first so that every fold sees every class (its calibration is then optimistic, but it still works).
    """

    def __init__(self, C: float = 1.0, class_weight: str | None = None, random_state: int | None = 0) -> None:
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X, y) -> CalibratedLinearSVC:
        y = np.asarray(y)
        classes, counts = np.unique(y, return_counts=True)
        singletons = np.flatnonzero(np.isin(y, classes[counts < 2]))
        if singletons.size:
            X = sparse.vstack([X, X[singletons]]).tocsr() if sparse.issparse(X) else np.vstack([X, X[singletons]])
            y = np.concatenate([y, y[singletons]])
        folds = StratifiedKFold(
            n_splits=int(min(3, max(2, counts.min()))), shuffle=True, random_state=self.random_state
        )
        svc = LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
        self.calibrated_ = CalibratedClassifierCV(svc, method="sigmoid", cv=folds).fit(X, y)
        self.classes_ = self.calibrated_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.calibrated_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        return self.calibrated_.predict(X)
