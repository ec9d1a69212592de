"""bench.aggregation on a slice of the sample: votes are simulated as asked, and the table has both teams."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bench import aggregation


def test_votes_come_from_distinct_annotators_with_their_accuracy():
    gold = ["a", "b", "c", "d"] * 500
    votes = aggregation.simulate_votes(gold, (1.0, 0.0, 0.5), per_task=2, seed=0)
    assert len(votes) == 2 * len(gold)
    assert all(len({w for t, w, _ in votes if t == i}) == 2 for i in range(20))
    right = Counter(w for t, w, label in votes if label == gold[t])
    total = Counter(w for _, w, _ in votes)
    assert right[0] == total[0] and right[1] == 0 and 0.45 < right[2] / total[2] < 0.55


def test_main_prints_both_teams(tmp_path: Path, capsys: pytest.CaptureFixture):
    out = tmp_path / "agg.json"
    assert aggregation.main(["--seeds", "1", "--limit", "450", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["team"] for r in rows] == ["different reliability", "equal reliability"]
    for r in rows:
        assert 0.0 < r["majority vote label accuracy"] <= 1.0 and 0.0 < r["gold test accuracy"] <= 1.0
    table = capsys.readouterr().out
    assert "| different reliability (0.95, 0.9, 0.7, 0.45, 0.3) | 1 |" in table
