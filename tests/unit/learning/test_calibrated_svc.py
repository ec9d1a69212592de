"""The calibrated linear SVM behind ``tfidf-svm``: it fits with classes of one or two examples."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from al_core.learning.calibrated_svc import CalibratedLinearSVC
from al_core.learning.models import vectorize_for_diversity

TEXTS = [
    "cheap flights to paris",
    "my flight was delayed",
    "book a flight to rome",
    "cancel my plane ticket",
    "pizza delivery is late",
    "order a pizza with cheese",
    "the burger was cold",
    "best sushi in town",
    "hotel room was dirty",
    "book a hotel near the beach",
    "will it rain tomorrow",
]


def test_calibrated_svc_with_one_example_of_a_class() -> None:
    features = vectorize_for_diversity(TEXTS)
    y = np.array(["a"] * 10 + ["b"])
    clf = CalibratedLinearSVC(random_state=0).fit(features, y)
    assert clf.classes_.tolist() == ["a", "b"]
    np.testing.assert_allclose(clf.predict_proba(features).sum(axis=1), 1.0)


def test_the_folds_follow_the_smallest_class() -> None:
    x = np.array([[0.0], [0.1], [0.2], [0.3], [1.0], [1.1], [5.0], [5.1], [5.2], [5.3]])
    y = np.array(["low"] * 4 + ["mid"] * 2 + ["high"] * 4)
    clf = CalibratedLinearSVC(C=2.0, random_state=0).fit(x, y)
    assert clf.calibrated_.cv.n_splits == 2  # the smallest class has 2 examples: 2 folds, not 3
    assert clf.calibrated_.cv.random_state == 0
    assert clf.classes_.tolist() == ["high", "low", "mid"]
    assert clf.predict(np.array([[0.05], [5.1]])).tolist() == ["low", "high"]


def test_a_single_example_is_duplicated_in_sparse_input_too() -> None:
    x = sparse.csr_matrix(np.array([[1.0, 0.0]] * 5 + [[0.0, 1.0]]))
    y = np.array(["x"] * 5 + ["y"])
    clf = CalibratedLinearSVC(random_state=0).fit(x, y)
    assert clf.calibrated_.cv.n_splits == 2  # the singleton, doubled, has 2 examples
    proba = clf.predict_proba(x)
    assert proba.shape == (6, 2)
    assert proba[0, 0] > proba[0, 1] and proba[5, 1] > proba[5, 0]


def test_the_parameters_reach_the_svm() -> None:
    x = np.array([[0.0], [0.1], [0.2], [1.0], [1.1], [1.2]])
    clf = CalibratedLinearSVC(C=0.25, class_weight="balanced", random_state=3).fit(x, ["a"] * 3 + ["b"] * 3)
    svc = clf.calibrated_.calibrated_classifiers_[0].estimator
    assert (svc.C, svc.class_weight, svc.random_state) == (0.25, "balanced", 3)
