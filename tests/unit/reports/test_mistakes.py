"""Tests for al_core.reports.mistakes: the evaluation tasks a version got wrong, with texts from the task cache."""

from __future__ import annotations

import pandas as pd
import pytest

from al_core.errors import ConfigError
from al_core.labelstudio.label_config import TEMPLATES
from al_core.labelstudio.records import Task
from al_core.labelstudio.task_cache import _save, cache_path
from al_core.reports import mistakes
from tests.unit.records import record, stored_as

URL = "http://ls.test:8080"
OUTCOMES = {
    "11": ["card", False, 0.95, "billing"],
    "12": ["billing", True, 0.9, "billing"],
    "13": ["loan", False, 0.55, "card"],
    "14": ["loan", False],  # stored without confidence and truth
}


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path))
    return tmp_path


def version():
    return stored_as(record(2, accuracy=0.25), metrics={"eval_outcomes": OUTCOMES})


def test_mistakes_are_the_wrong_answers_most_confident_first() -> None:
    wrong = mistakes.mistakes(version())
    assert [m.task_id for m in wrong] == [11, 13, 14]
    assert wrong[0] == mistakes.Mistake(11, "card", "billing", 0.95)
    assert wrong[2] == mistakes.Mistake(14, "loan", None, None)
    assert mistakes.mistakes(record(1, cold=True)) == []


def test_the_table_has_excerpts_labels_confidence_and_links() -> None:
    long = "word " * 100
    table = mistakes.mistakes_table(version(), {11: "my  card\nwas charged", 13: long}, URL + "/", 5)
    assert list(table.columns) == list(mistakes.COLUMNS)
    assert list(table["task"]) == [11, 13, 14]
    assert list(table["text"])[0] == "my card was charged"
    assert len(table["text"][1]) == mistakes.EXCERPT and table["text"][1].endswith("…")
    assert table["text"][2].startswith("(text not cached")
    assert list(table["true label"]) == ["billing", "card", ""]
    assert list(table["predicted"]) == ["card", "loan", "loan"]
    assert table["confidence"][0] == 0.95 and pd.isna(table["confidence"][2])
    assert table["open in Label Studio"][0] == "http://ls.test:8080/projects/5/data?task=11"
    assert list(mistakes.mistakes_table(record(1, cold=True), {}, URL, 5).columns) == list(mistakes.COLUMNS)


def test_texts_come_from_the_task_cache_as_label_studio_shows_them() -> None:
    tasks = {11: Task(11, {"text": "card charged twice"}), 13: Task(13, {"other": "x"}), 99: Task(99, {"text": "-"})}
    _save(cache_path(URL, 5), tasks, "2025-01-01")
    texts = mistakes.cached_texts(URL, 5, TEMPLATES["intent"], version())
    assert texts == {11: "card charged twice"}  # 13 shows no text, 14 is not cached, 99 is not a mistake
    assert mistakes.cached_texts(URL, 6, TEMPLATES["intent"], version()) == {}
    with pytest.raises(ConfigError):
        mistakes.cached_texts(URL, 5, "<View/>", version())
