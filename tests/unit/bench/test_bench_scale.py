"""Tests for bench.scale's offline parts: the generated pool, the CLI flags and the table of a result
(a small real run is tests/integration/test_bench_scale.py)."""

from __future__ import annotations

import pytest

from al_core.labelstudio.label_config import TEMPLATES, parse_label_config
from bench import scale

ITERATION = {
    "wall_s": 100.0,
    "app_peak_rss_mb": 1500.0,
    "server_peak_rss_mb": 900.0,
    "steps": {"read": 60.0, "score": 20.0, "upload": 3.0, "record": 0.01},
    "n_unlabeled": 999_500,
    "n_labeled": 450,
    "n_predictions": 1_300,
    "tasks_fetched": 1_000_000,
    "full_sync": True,
    "n_embed_cached": None,
}


def test_the_pool_is_generated_chunk_by_chunk_with_distinct_texts_and_gold_labels() -> None:
    spec = parse_label_config(TEMPLATES["intent"])
    chunks = list(scale.pool_tasks(5000, 3, 2000, spec))
    assert [len(c) for c in chunks] == [2000, 2000, 1000]
    tasks = [t for c in chunks for t in c]
    assert len({t["data"]["text"] for t in tasks}) == 5000, "repeats are marked, so texts stay distinct"
    assert [("annotations" in t) for t in tasks[:4]] == [True, True, True, False]
    assert tasks[0]["annotations"][0]["result"][0]["value"]["choices"][0] in spec.labels


def test_help_documents_the_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        scale.main(["--help"])
    out = capsys.readouterr().out
    for flag in ("--pool", "--labeled", "--compare-pool", "--project", "--default-model"):
        assert flag in out


def test_table_of_a_result() -> None:
    result = {
        "import": {"tasks": 1_000_000, "tasks_per_s": 460, "seconds": 2174.0, "chunk": 10_000},
        "listing": {"n_tasks": 20_000, "paginated_s": 20.0, "export_s": 50.0},
        "cold": ITERATION,
        "warm": {**ITERATION, "full_sync": False, "tasks_fetched": 20},
        "default_model": {**ITERATION, "n_embed_cached": 1_000_000},
    }
    md = scale.table(result).splitlines()
    assert md[2] == "| import | 2174.0 | | | 1,000,000 tasks (460/s), requests of 10,000 |"
    assert md[3].startswith("| cold iteration | 100.0 | 1,500 | 900 | 999,500 unlabeled, 1,000,000 tasks listed")
    assert "20 tasks listed" in md[4] and "record" not in md[3]  # steps under 0.05 s are left out
    assert md[5].startswith("| minilm-logreg, warm embedding cache iteration | 100.0 | 1,500 | 900 | 1,000,000 vectors")
    assert md[6:] == [
        "| listing 20,000 tasks, paginated | 20.0 | | | |",
        "| listing 20,000 tasks, export | 50.0 | | | |",
    ]
