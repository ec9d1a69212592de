"""Tests for bench.label_efficiency, the command line of al_core.lab.simulation (the engine is tested in test_simulation)."""

from __future__ import annotations

import json

import pytest

from al_core.errors import ConfigError
from al_core.lab.simulation import run_dataset
from al_core.lab.simulation_charts import figure
from bench import label_efficiency as le
from tests.unit.synthetic import TINY, synthetic


@pytest.fixture(scope="module")
def data() -> tuple[list[str], list[str]]:
    return synthetic()


def test_find_datasets_and_load_csv(tmp_path) -> None:
    (tmp_path / "spam").mkdir()
    (tmp_path / "spam" / "data.csv").write_text("text,label\nhi there,ham\n,ham\nwin now,spam\n", encoding="utf-8")
    (tmp_path / "extra.csv").write_text("text,label\na b,x\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("sentence,label\na,x\n", encoding="utf-8")
    found = le.find_datasets(tmp_path)
    assert [name for name, _ in found] == ["spam", "bad", "extra"]
    assert le.load_csv(found[0][1]) == (["hi there", "win now"], ["ham", "spam"])  # the empty text is dropped
    with pytest.raises(ConfigError, match="needs the columns text,label"):
        le.load_csv(found[1][1])


def test_figure_and_table_cover_every_strategy(data) -> None:
    texts, labels = data
    results = {"tiny": run_dataset(texts, labels, strategy_names=["random", "margin"], seeds=1, **TINY)}
    assert [t.name.split(" (")[0] for t in figure(results).data] == ["random", "margin"]
    table = le.markdown_table(results)
    assert "| tiny |" in table and "margin" in table
    full = results["tiny"]["full_accuracy_by_model"]["tfidf-logreg"]
    assert f"| tiny | tfidf-logreg {full:.3f} |" in table  # the ceiling of each representation (issue #16)


def test_main_prints_a_table_and_writes_json(tmp_path, capsys) -> None:
    texts, labels = synthetic(20)
    data = tmp_path / "tiny.csv"
    data.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in zip(texts, labels, strict=True)))
    out = tmp_path / "out.json"
    code = le.main(["--data", str(data), "--strategies", "random,margin", "--seeds", "1", "--budget", "12",
                    "--batch", "6", "--start", "6", "--json", str(out)])  # fmt: skip
    assert code == 0
    assert "| tiny |" in capsys.readouterr().out
    assert set(json.loads(out.read_text())["tiny"]["strategies"]) == {"random", "margin"}
