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


def test_classes_keeps_the_first_intents_of_the_sample() -> None:
    from al_core.lab.sample import sample_rows
    from al_core.labelstudio.label_config import parse_label_config

    config, tasks = latency.first_intents(2)
    spec = parse_label_config(config)
    assert spec.labels == ("balance", "bill_balance"), "the first two of the sample's config"
    gold = dict(sample_rows())
    assert len(spec.labels) == 2 and {gold[t["data"]["text"]] for t in tasks} == set(spec.labels)
    assert len(tasks) == sum(1 for _, label in sample_rows() if label in spec.labels) == 300
    pool = latency.repeated(tasks, 700)
    texts = [t["data"]["text"] for t in pool]
    assert len(set(texts)) == 700 and texts[300] == f"{texts[0]} (#1)" and texts[699] == f"{texts[99]} (#2)"
    assert latency.first_intents(None)[1][0] == latency.sample_tasks()[0]
    with pytest.raises(ValueError, match=r"--classes must be in \[2, 15\]\. Got 1 instead\."):
        latency.first_intents(1)


def test_default_only_flags_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in (
        (["--versus", "minilm-logreg"], "--rounds (>= 1) and --versus go with --default-only"),
        (["--default-only", "--rounds", "0"], "--rounds (>= 1) and --versus go with --default-only"),
        (["--classes", "16"], "--classes must be in [2, 15]. Got 16 instead."),
    ):
        with pytest.raises(SystemExit):
            latency.main(argv)
        assert message in capsys.readouterr().err


def test_markdown_of_default_rounds_gives_the_ratio_to_the_first_model() -> None:
    def it(rnd: int, asked: str, model: str, wall: float) -> dict:
        return {"round": rnd, "asked": asked, "model": model, "wall_s": wall, "steps": {"embed": wall - 1}}

    r = {
        "pool": 20000, "classes": 2, "labeled": 500, "engine": "abc1234", "date": "2026-11-29T20:00:00+00:00",
        "machine": {"loadavg": [3.0, 3.0, 3.0], "loadavg_end": [4.0, 3.0, 3.0]}, "default_only": True,
        "rounds": [it(1, "auto", "tfidf+minilm-logreg", 110.0), it(1, "minilm-logreg", "minilm-logreg", 100.0),
                   it(2, "auto", "tfidf+minilm-logreg", 130.0), it(2, "minilm-logreg", "minilm-logreg", 100.0)],
        "by_model": {"auto": [110.0, 130.0], "minilm-logreg": [100.0, 100.0]},
    }  # fmt: skip
    md = latency.markdown(r)
    assert "Pool 20,000 tasks (2 classes), 500 labeled" in md
    assert "| 2 | auto | tfidf+minilm-logreg | 130.00 | embed 129.00 |" in md
    assert "| --model | mean seconds (rounds 2+) | ratio to the first |" in md, "round 1 alone embeds the pool"
    assert "| auto | 130.00 | 1.00 |" in md and "| minilm-logreg | 100.00 | 0.77 |" in md
