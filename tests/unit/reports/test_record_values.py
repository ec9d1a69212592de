"""Tests for al_core.reports.record_values: stored numbers read safely from records of any engine version."""

from __future__ import annotations

import dataclasses
import math

import pytest

from al_core.reports.record_values import as_count, as_number, stored, stored_number, succeeded_versions
from tests.unit.records import record


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (3, 3.0),
        (0.25, 0.25),
        ("1.5", 1.5),
        (None, None),
        (True, None),
        ("n/a", None),
        (math.nan, None),
        (math.inf, None),
        ([1], None),
    ],
)
def test_as_number(raw: object, expected: float | None) -> None:
    assert as_number(raw) == expected


def test_stored_values_tolerate_missing_groups_and_keys() -> None:
    rec = record(2, accuracy=0.7)
    assert stored_number(rec, "metrics", "accuracy") == 0.7
    assert stored(rec, "metrics", "no such key") is None
    cold = record(1, cold=True)
    assert stored_number(cold, "metrics", "accuracy") is None and stored(cold, "uncertainty", "kappa") is None
    broken = dataclasses.replace(record(3, accuracy=0.8), metrics=["not", "a", "mapping"], uncertainty=None)
    assert stored(broken, "metrics", "accuracy") is None and stored(broken, "uncertainty", "kappa") is None


def test_as_count() -> None:
    assert as_count("7") == 7 and as_count(2.9) == 2 and as_count(None) == 0 and as_count("x") == 0


def test_succeeded_versions_are_the_succeeded_ones_oldest_first() -> None:
    records = [record(3, accuracy=0.8), record(1, cold=True), record(2, status="failed", error="boom")]
    assert [r.number for r in succeeded_versions(records)] == [1, 3]
