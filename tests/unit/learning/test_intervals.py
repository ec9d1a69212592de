"""Tests of al_core.learning.intervals: golden values computed by hand from the published formulas."""

from __future__ import annotations

import math

import pytest

from al_core.errors import ConfigError
from al_core.learning.intervals import (
    accuracy_interval,
    compare_versions,
    exact_sign_test,
    labels_for_margin,
    macro_f1_interval,
)


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(8, 10), (0, 10), (10, 10), (17, 20), (150, 300), (1, 1)])
def test_accuracy_interval_is_the_wilson_interval(k, n):
    low, high = accuracy_interval(k, n)
    want_low, want_high = wilson(k, n)
    assert low == pytest.approx(max(want_low, 0.0), abs=1e-9)
    assert high == pytest.approx(min(want_high, 1.0), abs=1e-9)
    assert low <= k / n <= high


def test_accuracy_interval_known_value():
    assert accuracy_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)


def test_accuracy_interval_without_labels_is_none():
    assert accuracy_interval(0, 0) is None


@pytest.mark.parametrize(("k", "n", "match"), [(3, 2, "cannot exceed"), (-1, 2, "'n_correct'"), (1, 2.5, "'n'")])
def test_accuracy_interval_refuses_bad_counts(k, n, match):
    with pytest.raises(ConfigError, match=match):
        accuracy_interval(k, n)


def test_labels_for_margin_reaches_the_margin_exactly():
    more = labels_for_margin(0.8, 20)
    assert more == 225
    low, high = wilson(int(0.8 * 245), 245)
    assert (high - low) / 2 <= 0.05
    low, high = wilson(int(0.8 * 244), 244)
    assert (high - low) / 2 > 0.05


def test_labels_for_margin_worst_case_and_already_narrow():
    assert labels_for_margin(None, 0) == 381  # p = 0.5
    assert labels_for_margin(0.9, 1000) == 0


def test_macro_f1_interval_contains_the_estimate_and_is_reproducible():
    y_true = ["a"] * 40 + ["b"] * 40 + ["c"] * 20
    y_pred = ["a"] * 35 + ["b"] * 5 + ["b"] * 30 + ["c"] * 10 + ["c"] * 15 + ["a"] * 5
    first = macro_f1_interval(y_true, y_pred, ["a", "b", "c"], random_state=3)
    assert first == macro_f1_interval(y_true, y_pred, ["a", "b", "c"], random_state=3)
    low, high = first
    assert 0 < low < 0.781 < high < 1  # macro-F1 of this table: (0.875 + 0.8 + 0.667) / 3 = 0.781
    assert macro_f1_interval(["a"], ["a"], ["a"]) is None


def test_macro_f1_interval_of_a_perfect_model_is_one():
    y = ["a", "b", "c", "a", "b"] * 4
    assert macro_f1_interval(y, y, ["a", "b", "c"]) == (1.0, 1.0)


def test_compare_versions_calls_a_clear_gain_better():
    first = {i: i < 5 for i in range(30)}  # 5 right
    second = {i: True for i in range(30)}  # 30 right: 25 fixed, none broken
    result = compare_versions(first, second)
    assert (result.only_first_right, result.only_second_right) == (0, 25)
    assert result.p_value == pytest.approx(2 * 0.5**25)
    assert result.verdict == "better"
    assert "better than al-0001" in result.sentence("al-0001", "al-0002")


def test_compare_versions_calls_a_small_change_within_noise():
    first = {i: i % 2 == 0 for i in range(20)}
    second = {i: i % 2 == 0 or i == 1 for i in range(20)}  # one more right
    result = compare_versions(first, second)
    assert result.p_value == 1.0
    assert result.verdict == "within noise"
    assert compare_versions(second, first).verdict == "within noise"


def test_compare_versions_a_clear_loss_is_worse_and_only_common_tasks_count():
    first = {i: True for i in range(20)} | {100: True}
    second = {i: False for i in range(20)} | {200: False}
    result = compare_versions(first, second)
    assert result.n_common == 20
    assert result.verdict == "worse"
    assert compare_versions({1: True}, {2: True}).verdict == "no common tasks"


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (0, 6), (3, 6), (2, 9), (9, 9), (7, 30), (40, 61), (0, 200)])
def test_exact_sign_test_matches_scipy_binomtest(k, n):
    from scipy.stats import binomtest  # the reference only: the module itself avoids importing scipy.stats

    assert exact_sign_test(k, n) == pytest.approx(binomtest(k, n, 0.5).pvalue, rel=1e-9, abs=1e-15)
    assert exact_sign_test(k, n) == exact_sign_test(n - k, n)
