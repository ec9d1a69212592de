"""Tests for al_core.store.measured: reading stored intervals and per-task outcomes."""

from __future__ import annotations

import pytest

from al_core.store.measured import EvalOutcome, correct_by_task, read_interval, read_outcomes, wilson_of_stored


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ([0.1, 0.4], (0.1, 0.4)),
        ((0, 1), (0.0, 1.0)),
        ([0.5, 0.4], None),  # low above high
        ([0.1, 1.5], None),  # not a share
        ([0.1], None),
        ([0.1, None], None),
        ([True, 0.4], None),
        ("0.1-0.4", None),
        (None, None),
    ],
)
def test_read_interval(stored: object, read: object) -> None:
    assert read_interval(stored) == read


def test_read_outcomes_keeps_well_formed_entries() -> None:
    stored = {
        "12": ["card", True, 0.83],
        "13": ["loan", False],  # stored without a confidence
        "14": ["card", "yes", 0.5],  # not a bool
        "x": ["card", True, 0.5],  # not a task id
        "15": ["card"],
        "16": ["a|b", False, None],
        "17": ["card", False, 0.4, "loan"],  # with the true label
        "18": ["card", False, 0.4, "loan", "more"],
    }
    assert read_outcomes(stored) == {
        12: EvalOutcome("card", True, 0.83),
        13: EvalOutcome("loan", False, None),
        16: EvalOutcome("a|b", False, None),
        17: EvalOutcome("card", False, 0.4, "loan"),
    }
    assert read_outcomes([["card", True]]) == {}
    assert correct_by_task(read_outcomes(stored)) == {12: True, 13: False, 16: False, 17: False}


def test_wilson_of_stored_reads_the_count_of_right_answers() -> None:
    assert wilson_of_stored(0.75, 40) == pytest.approx((0.5981, 0.8581), abs=1e-4)
    assert wilson_of_stored(0.742, 40) == wilson_of_stored(0.75, 40)  # 29.68 right: read as 30
    assert (
        wilson_of_stored(None, 40) is None and wilson_of_stored(0.8, 0) is None and wilson_of_stored(0.8, None) is None
    )
