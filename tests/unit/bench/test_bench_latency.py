"""Tests for bench.latency's offline parts: the CLI flags, the RSS sampler and the markdown of a result."""

from __future__ import annotations

import copy
import os

import pytest

from bench import latency

ITERATION = {"wall_s": 2.0, "steps": {"read": 1.0, "upload": 0.5}, "n_predictions": 900, "peak_rss_mb": 300.0}
RESULT = {
    "pool": 1000,
    "labeled": 100,
    "ours_s": 4.0,
    "ours_steps": {"read": 2.0, "train": 0.1, "score": 0.1, "upload": 1.5},
    "ours_default_s": 2.0,
    "ours_default_steps": {"read": 1.0, "upload": 0.5},
    "ours_repeat_s": 0.8,
    "example_way_s": 400.0,
    "floor_s": 3.5,
    "speedup_vs_example": 100.0,
    "overhead_vs_floor": 1.08,
    "peak_rss_mb": 310.0,
    "server_peak_rss_mb": 400.0,
    "server_peak_rss_ours_mb": 390.0,
    "example": {
        "steps": {"get_tasks": 10.0},
        "create_prediction_ms": 100.0,
        "sample": 300,
        "n_pool": 900,
    },
    "floor": {"steps": {"list_ids_texts": 1.0, "bulk_import": 2.5}},
    "ours": {"full": ITERATION, "default": ITERATION, "repeat": ITERATION, "rss_before_mb": 250.0},
    "process_maxrss_mb": 320.0,
    "label_studio": "1.23.2",
    "engine": "abc1234",
    "date": "2026-11-26T00:00:00+00:00",
    "machine": {"loadavg": [1.0, 1.0, 1.0], "loadavg_end": [2.0, 1.0, 1.0]},
}


def test_help_documents_the_skip_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        latency.main(["--help"])
    out = capsys.readouterr().out
    assert "--skip-example" in out and "--skip-floor" in out


def test_markdown_of_a_full_result_shows_targets_and_memory() -> None:
    md = latency.markdown(RESULT)
    assert "| speedup_vs_example | 100.0 | >= 50 (met) |" in md
    assert "< 2048 (met)" in md
    assert "peak RSS of the Label Studio server (MB) | 400 |" in md


def test_markdown_with_example_and_floor_skipped() -> None:
    r = copy.deepcopy(RESULT)
    r.update(example=None, floor=None, example_way_s=None, floor_s=None, speedup_vs_example=None)
    r.update(overhead_vs_floor=None, server_peak_rss_mb=None, server_peak_rss_ours_mb=None)
    md = latency.markdown(r)
    assert "| example's way (legacy SDK) | skipped | `--skip-example` |" in md
    assert "| REST floor | skipped | `--skip-floor` |" in md
    assert "| speedup_vs_example | skipped | >= 50 (skipped) |" in md
    assert "| overhead_vs_floor | skipped | <= 1.5 (skipped) |" in md


def test_markdown_flags_a_peak_over_two_gigabytes() -> None:
    r = copy.deepcopy(RESULT)
    r["peak_rss_mb"] = 2500.0
    assert "< 2048 (MISSED)" in latency.markdown(r)


def test_peak_rss_sees_an_allocation_made_while_sampling() -> None:
    with latency.PeakRss() as rss:
        before = rss.rss()
        block = bytearray(64 * 2**20)  # 64 MB, touched so that it is resident
        block[::4096] = b"x" * len(block[::4096])
        latency.time.sleep(0.1)
    assert rss.peak >= before + 60 * 2**20
    del block


def test_peak_rss_of_a_process_tree_counts_this_process() -> None:
    with latency.PeakRss(os.getpid(), tree=True) as rss:
        pass
    assert rss.peak_mb > 10
