"""Choosing a default by the mean over kinds of data (bench.protocol)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import protocol


def _run(auc: float, n95: int | None = None) -> dict:
    return {"auc": auc, "n95": n95}


def _results() -> dict:
    def dataset(n_classes: int, base: float, plain: float, diverse: float) -> dict:
        return {
            "n_classes": n_classes,
            "n_train": 100,
            "full_accuracy_by_model": {"tfidf-logreg": 0.9, "minilm-logreg": 0.95},
            "strategies": {
                "tfidf/random": _run(base),
                "minilm/margin": _run(plain, 40),
                "minilm/margin+diversity": _run(diverse),
            },
        }

    # Three 2-class subsets where diversity costs, one many-class set where it pays.
    return {
        "banking77_c2": dataset(2, 0.80, 0.95, 0.93),
        "clinc150_c2": dataset(2, 0.80, 0.95, 0.93),
        "banking77_c3": dataset(3, 0.80, 0.95, 0.93),
        "banking77_all": dataset(77, 0.40, 0.60, 0.70),
    }


def test_gains_are_averaged_within_a_kind_then_over_kinds() -> None:
    s = protocol.scores(_results(), "minilm/margin+diversity")
    assert s["by_kind"] == pytest.approx({"2-3 classes": 0.13, "many classes": 0.30})
    assert s["mean_over_kinds"] == pytest.approx(0.215)
    assert s["mean_over_datasets"] == pytest.approx((0.13 * 3 + 0.30) / 4)
    assert s["below"] == 0 and s["n95_reached"] == 0 and s["datasets"] == 4


def test_the_rule_takes_diversity_only_from_k_classes_and_can_win() -> None:
    results = _results()
    key = protocol.add_rule(results, "minilm", 5)
    assert key == "minilm/margin+diversity>=5"
    assert results["banking77_c2"]["strategies"][key]["auc"] == 0.95
    assert results["banking77_all"]["strategies"][key]["auc"] == 0.70
    assert protocol.choose(results) == key


def test_main_prints_both_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_results()), encoding="utf-8")
    assert protocol.main([str(path), "--rules", "5"]) == 0
    out = capsys.readouterr().out
    assert "Chosen by the mean over kinds: minilm/margin+diversity>=5" in out
    assert "| banking77_all | many classes | 77 | 100 | tfidf 0.900, minilm 0.950 | 0.400 |" in out


def test_paired_compares_only_where_both_ran() -> None:
    results = _results()
    del results["banking77_all"]["strategies"]["minilm/margin"]
    d = protocol.paired(results, "minilm/margin", "minilm/margin+diversity")
    assert d["datasets"] == 3 and d["mean"] == pytest.approx(0.02) and (d["better"], d["worse"]) == (3, 0)
    assert "| minilm/margin | 3 | +0.0200 | +0.020 .. +0.020 | 3 / 0 / 0 |" in protocol.paired_table(
        results, "minilm/margin+diversity"
    )


def test_seed_by_seed_gives_the_mean_difference_with_a_t_interval(tmp_path: Path, capsys) -> None:
    results = _results()
    runs = results["clinc150_c2"]["strategies"]
    runs["tfidf/random"]["auc_by_seed"] = [1.0, 1.0, 1.0, 1.0]
    runs["minilm/margin+diversity"]["auc_by_seed"] = [0.996, 1.0, 0.998, 1.0002]
    d = protocol.seed_paired(results["clinc150_c2"], "minilm/margin+diversity", "tfidf/random")
    # differences -0.004, 0, -0.002, +0.0002: mean -0.00145, sd 0.001969, t(0.975, 3) = 3.1824
    assert d["seeds"] == 4 and d["mean"] == pytest.approx(-0.00145)
    assert d["high"] - d["mean"] == pytest.approx(3.1824 * 0.0019690 / 2, rel=1e-3)
    assert (d["won"], d["lost"]) == (0, 2)
    assert protocol.seed_paired(results["banking77_c2"], "minilm/margin+diversity", "tfidf/random") is None
    path = tmp_path / "r.json"
    path.write_text(json.dumps(results), encoding="utf-8")
    assert protocol.main([str(path)]) == 0
    assert "| clinc150_c2 | minilm/margin+diversity | 4 | -0.0015 | -0.0046 .. +0.0017 | 0 / 2 / 2 |" in (
        capsys.readouterr().out
    )


def test_a_switch_takes_one_key_up_to_k_classes_and_another_above() -> None:
    results = _results()
    key = protocol.add_switch(results, "minilm/margin", "minilm/margin+diversity", 3)
    assert key == "minilm/margin up to 3 classes else minilm/margin+diversity"
    assert [r["strategies"][key]["auc"] for r in results.values()] == [0.95, 0.95, 0.95, 0.70]
    del results["banking77_c2"]["strategies"]["minilm/margin"]
    again = protocol.add_switch(results, "minilm/margin", "minilm/margin+diversity", 2)
    assert again not in results["banking77_c2"]["strategies"]  # what it needs did not run there
