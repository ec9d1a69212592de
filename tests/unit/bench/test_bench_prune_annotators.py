"""Tests for bench.prune_annotators's offline parts: the paces, the percentiles, the summary and the table."""

from __future__ import annotations

import argparse

import pytest

from al_core.pruning import Pacing
from bench import prune_annotators as bench


def test_paces_are_old_or_batch_and_pause() -> None:
    assert bench.parse_pace("old") == Pacing(batch=0, pause=0.0)
    assert bench.parse_pace("10/1.5") == Pacing(batch=10, pause=1.5)
    with pytest.raises(argparse.ArgumentTypeError, match="A pace is 'old' or BATCH/PAUSE such as 10/1.0. Got '10'."):
        bench.parse_pace("10")
    assert bench.pace_name(Pacing(0, 0)) == "old (one version delete)"
    assert bench.pace_name(Pacing(10, 1.0)) == "10 per batch, 1 s pause"


def test_percentiles_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 0.5) == 50.0
    assert bench.percentile(values, 0.95) == 95.0
    assert bench.percentile([3.0], 0.95) == 3.0
    assert bench.percentile([], 0.5) is None


def test_the_summary_counts_failures_and_their_kinds() -> None:
    calls = bench.Calls()
    for seconds in (0.1, 0.2, 0.3):
        calls.add(seconds, True, "next")
    calls.add(5.2, False, "annotate: 500 an error page")
    summary = calls.summary()
    assert summary["requests"] == 4 and summary["failed"] == 1 and summary["error_rate"] == 0.25
    assert summary["errors"] == ["annotate: 500 an error page"]
    assert (summary["p50_s"], summary["max_s"]) == (0.2, 5.2)
    assert bench.Calls().summary()["error_rate"] is None


def test_the_table_has_a_row_per_way_of_pruning() -> None:
    during = {"requests": 40, "failed": 2, "error_rate": 0.05, "p50_s": 0.5, "p95_s": 9.0, "max_s": 70.0}
    baseline = {"p50_s": 0.4, "p95_s": 0.6}
    run = {"pace": "old (one version delete)", "prune_s": 90.0, "ms_per_prediction": 90.0}
    table = bench.markdown({"runs": [{**run, "during_prune": during, "baseline": baseline}]})
    assert (
        "| old (one version delete) | 90.0 s | 90.0 | 40 | 2 | 5.0% | 0.5 s | 9.0 s | 70.0 s | 0.4 / 0.6 s |" in table
    )


def test_old_must_fit_in_the_tasks() -> None:
    with pytest.raises(SystemExit, match="--old must be at most --tasks. Got --old 5 and --tasks 2."):
        bench.main(["--tasks", "2", "--old", "5"])
