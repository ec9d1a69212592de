"""Bad input in a real Label Studio project gets a clear message or a count, never a crash, and changes
nothing it should not."""

from __future__ import annotations

import pytest

from al_core.errors import LabelConfigError
from al_core.iteration import IterationSettings, run_iteration
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import build_config, prediction_result
from al_core.labelstudio.records import Task
from al_core.settings import db_url
from al_core.store.history import History

POS = ["great product", "love it", "works well", "very good", "excellent value", "happy with it"]
NEG = ["broken on arrival", "hate it", "does not work", "very bad", "waste of money", "sad and angry"]


def _project(gateway: Gateway, title: str, texts: list[str], labels=("pos", "neg")):
    config = build_config(list(labels), control_name="label")
    project = gateway.create_project(title, config)
    gateway.import_tasks(project.id, [[{"data": {"text": t}} for t in texts]])
    return project, {t.data["text"]: t.id for t in gateway.list_tasks(project.id)}


def _label(gateway: Gateway, project, ids: dict[str, int], text: str, label: str) -> None:
    from al_core.labelstudio.label_config import parse_label_config

    spec = parse_label_config(gateway.get_project(project.id).label_config)
    result = prediction_result(spec, label) if label in spec.labels else _raw_result(spec, label)
    gateway.create_annotation(ids[text], result)


def _raw_result(spec, label: str) -> list[dict]:
    return [
        {"from_name": spec.control_name, "to_name": spec.object_name, "type": "choices", "value": {"choices": [label]}}
    ]


def test_a_project_with_no_unlabeled_tasks(gateway: Gateway, unique_title: str, monkeypatch) -> None:
    monkeypatch.delenv("AL_MODEL", raising=False)  # no model chosen: the default for two classes
    project, ids = _project(gateway, unique_title, POS + NEG)
    for text in POS:
        _label(gateway, project, ids, text, "pos")
    for text in NEG:
        _label(gateway, project, ids, text, "neg")
    history = History(db_url(), server=gateway.url)
    result = run_iteration(gateway, history, project.id, IterationSettings(eval_size=2))
    assert result.status == "succeeded" and result.n_unlabeled == 0 and result.n_predictions == 0
    assert (result.model, result.model_by_classes) == ("tfidf+minilm-logreg", 2), "two classes, none chosen"
    recorded = history.iterations(project.id)[-1].settings
    assert (recorded.model, recorded.model_by_classes) == ("tfidf+minilm-logreg", 2), "recorded as trained"
    assert result.message.endswith(
        "Nothing was queued: every task is labeled, so nothing is left to queue; import more tasks to continue."
    )
    assert gateway.get_project(project.id).model_version == ""  # nothing to queue: the queue is untouched


def test_unknown_labels_are_counted_and_one_class_is_a_cold_start(gateway: Gateway, unique_title: str) -> None:
    project, ids = _project(gateway, unique_title, POS + NEG)
    for text in POS[:4]:
        _label(gateway, project, ids, text, "pos")
    _label(gateway, project, ids, NEG[0], "not-in-the-config")
    result = run_iteration(gateway, History(db_url(), server=gateway.url), project.id, IterationSettings(eval_size=1))
    assert result.cold_start and "fewer than two classes" in result.message
    assert result.counts["unknown_labels"] == {"not-in-the-config": 1}


def test_tasks_missing_the_configured_key_are_counted(gateway: Gateway, unique_title: str) -> None:
    project, ids = _project(gateway, unique_title, POS + NEG)
    # Tasks imported with another data field (Label Studio accepts extra fields; the key is checked on config).
    gateway.import_tasks(project.id, [[{"data": {"text": "", "body": "no text here"}} for _ in range(3)]])
    for text in POS[:3]:
        _label(gateway, project, ids, text, "pos")
    for text in NEG[:3]:
        _label(gateway, project, ids, text, "neg")
    result = run_iteration(
        gateway, History(db_url(), server=gateway.url), project.id, IterationSettings(eval_size=1, upload_top=0)
    )
    assert result.status == "succeeded"
    assert result.counts["missing_text"] == 3
    assert result.n_unlabeled == len(POS + NEG) - 6 - 0  # the 3 empty tasks are not in the pool
    assert all(isinstance(t, Task) for t in gateway.list_tasks(project.id))


def test_a_config_without_choices_is_refused_before_anything_is_created(gateway: Gateway, unique_title: str) -> None:
    from al_core.labelstudio.label_config import parse_label_config

    with pytest.raises(LabelConfigError, match="no <Choices>"):
        parse_label_config('<View><Text name="text" value="$text"/></View>')
    assert unique_title not in {p.title for p in gateway.list_projects()}
