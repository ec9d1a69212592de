"""Unit tests of al_core.export: the columns of each row and both file formats, on a tiny fitted model."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from al_core import export
from al_core.errors import ConfigError
from al_core.export import PredictionExport, PredictionRow
from al_core.learning import models


@pytest.fixture(scope="module")
def single() -> models.FittedModel:
    return models.fit_model("tfidf-logreg", ["good film", "bad film", "fine day"], ["pos", "neg", "pos"])


@pytest.fixture(scope="module")
def multi() -> models.FittedModel:
    texts = ["red car", "blue sky", "red sky", "green tree"]
    labels = [("red",), ("blue",), ("red", "blue"), ("green",)]
    return models.fit_model("tfidf-logreg", texts, labels, multi_label=True)


def test_single_label_prediction_confidence_and_margin(single) -> None:
    proba = np.array([[0.2, 0.8], [0.55, 0.45]], dtype=np.float32)  # columns: neg, pos
    predicted, confidence, margin = export._describe(proba, single)
    assert predicted == ["pos", "neg"]
    assert confidence == pytest.approx([0.8, 0.55])
    assert margin == pytest.approx([0.6, 0.1])


def test_multi_label_prediction_keeps_tuples_and_the_margin_is_the_closest_call(multi) -> None:
    assert multi.classes == ("blue", "green", "red")
    proba = np.array([[0.9, 0.1, 0.6], [0.2, 0.3, 0.4]], dtype=np.float32)
    predicted, confidence, margin = export._describe(proba, multi)
    assert predicted == [("blue", "red"), ("red",)]  # every label at 0.5 or more, at least the top one
    assert confidence == pytest.approx([0.9, 0.4])
    assert margin == pytest.approx([0.2, 0.2])  # |2p - 1| of the closest label: 0.6 and 0.4


ROWS = (
    PredictionRow(3, ("a", "b"), 0.9, 0.2, True, ("a",)),
    PredictionRow(7, "c", 0.5, 0.0, False, None),
)


def test_csv_joins_label_sets_and_leaves_unlabeled_empty() -> None:
    text = export.to_csv(ROWS)
    assert text.splitlines()[0] == "task_id,predicted,confidence,margin,is_eval,label"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0] == {
        "task_id": "3",
        "predicted": "a|b",
        "confidence": "0.9",
        "margin": "0.2",
        "is_eval": "true",
        "label": "a",
    }
    assert rows[1]["label"] == "" and rows[1]["is_eval"] == "false"


def test_jsonl_keeps_lists_and_nulls() -> None:
    lines = [json.loads(line) for line in export.to_jsonl(ROWS).splitlines()]
    assert lines[0] == {
        "task_id": 3,
        "predicted": ["a", "b"],
        "confidence": 0.9,
        "margin": 0.2,
        "is_eval": True,
        "label": ["a"],
    }
    assert lines[1]["label"] is None and lines[1]["predicted"] == "c"


def test_write_picks_the_format_by_suffix_and_reports_an_unwritable_path(tmp_path) -> None:
    result = PredictionExport(1, "al-0001-n10", ROWS, 0)
    assert export.write(result, tmp_path / "p.jsonl").read_text().startswith('{"task_id": 3')
    assert export.write(result, tmp_path / "p.csv").read_text().startswith("task_id,")
    with pytest.raises(ConfigError, match=r"Cannot write the predictions to '.*missing/p.csv'"):
        export.write(result, tmp_path / "missing" / "p.csv")
    assert result.warnings == [] and PredictionExport(1, "v", (), 2).warnings == [
        "2 task(s) left out: their data holds no text in the labeled field."
    ]
