"""Tasks read the way Label Studio shows them, on a real server (issue #19, kind A): nested keys, HyperText,
Paragraphs with a textKey; a text behind a URL, or no text where the config points, is refused in one line
with nothing changed in Label Studio; a run's message never contradicts itself."""

from __future__ import annotations

import re

import pytest
from label_studio_sdk import LabelStudio

from al_core.errors import ConfigError, LabelConfigError
from al_core.iteration import IterationSettings, run_iteration
from al_core.labelstudio.gateway import UNCERTAINTY_SAMPLING, Gateway
from al_core.settings import Connection, db_url
from al_core.store.history import History

POS = ["great product", "love it", "works well", "very good", "excellent value", "happy with it", "superb"]
NEG = ["broken on arrival", "hate it", "does not work", "very bad", "waste of money", "sad and angry", "awful"]
CHOICES = '<Choices name="sentiment" toName="doc" choice="single"><Choice value="pos"/><Choice value="neg"/></Choices>'

SHAPES = {
    "nested key": (
        f'<View><Text name="doc" value="$review.body"/>{CHOICES}</View>',
        lambda text: {"review": {"body": text, "stars": 3}},
    ),
    "HyperText": (
        f'<View><HyperText name="doc" value="$html"/>{CHOICES}</View>',
        lambda text: {"html": f"<div><p><b>{text.split()[0]}</b> {' '.join(text.split()[1:])}</p></div>"},
    ),
    "Paragraphs with textKey": (
        f'<View><Paragraphs name="doc" value="$dialogue" layout="dialogue" textKey="utterance" nameKey="who"/>'
        f"{CHOICES}</View>",
        lambda text: {"dialogue": [{"who": "customer", "utterance": w} for w in text.split()]},
    ),
}


def _project(gateway: Gateway, conn: Connection, title: str, config: str, data) -> tuple[int, dict[str, int]]:
    """A project made in Label Studio itself (its own API, not the dashboard's checks): the config is set after
    the import, as a team may change it, so tasks can lack the field the config points to."""
    client = LabelStudio(base_url=conn.url, api_key=conn.api_key)
    project = client.projects.create(title=title)  # no config yet: Label Studio checks no data key
    client.projects.import_tasks(id=project.id, request=[{"data": data(text)} for text in POS + NEG])
    client.projects.update(id=project.id, label_config=config)
    ids = [t.id for t in sorted(gateway.list_tasks(project.id), key=lambda t: t.id)]
    return project.id, dict(zip(POS + NEG, ids, strict=True))


def _label(gateway: Gateway, project_id: int, ids: dict[str, int], texts: list[str], label: str) -> None:
    result = [{"from_name": "sentiment", "to_name": "doc", "type": "choices", "value": {"choices": [label]}}]
    for text in texts:
        gateway.create_annotation(ids[text], result)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_text_object_is_read_as_label_studio_shows_it(
    label_studio: Connection, gateway: Gateway, unique_title: str, shape: str
) -> None:
    config, data = SHAPES[shape]
    project_id, ids = _project(gateway, label_studio, unique_title, config, data)
    _label(gateway, project_id, ids, POS[:3], "pos")
    _label(gateway, project_id, ids, NEG[:3], "neg")
    settings = IterationSettings(model="tfidf-logreg", eval_size=2, upload_top=0)
    result = run_iteration(gateway, History(db_url(), server=gateway.url), project_id, settings)
    assert result.status == "succeeded" and not result.cold_start
    assert result.counts["missing_text"] == 0 and result.counts["warnings"] == []
    assert result.n_unlabeled == len(POS + NEG) - 6
    assert result.n_predictions == result.n_unlabeled  # every unlabeled task scored and queued
    assert gateway.get_project(project_id).model_version == result.model_version


def test_a_nested_key_cold_start_queues_its_first_batch_and_says_only_that(
    label_studio: Connection, gateway: Gateway, unique_title: str
) -> None:
    # Case A2: 0 labels, 14 unlabeled tasks at $review.body. Was "succeeded al-0001-n0" saying both "the queue now
    # serves a diverse first batch" and "every task is labeled", with nothing queued.
    config, data = SHAPES["nested key"]
    project_id, _ = _project(gateway, label_studio, unique_title, config, data)
    result = run_iteration(
        gateway, History(db_url(), server=gateway.url), project_id, IterationSettings(model="tfidf-logreg")
    )
    assert result.cold_start and result.n_unlabeled == len(POS + NEG) and result.n_predictions == len(POS + NEG)
    assert "The queue now serves a diverse first batch" in result.message
    assert "labeled" not in result.message.split("no model yet.")[1].split("label tasks")[0]
    assert "Nothing was queued" not in result.message
    assert gateway.get_project(project_id).model_version == result.model_version


def test_a_fully_labeled_project_says_nothing_was_queued_and_why(
    label_studio: Connection, gateway: Gateway, unique_title: str
) -> None:
    config, data = SHAPES["nested key"]
    project_id, ids = _project(gateway, label_studio, unique_title, config, data)
    _label(gateway, project_id, ids, POS, "pos")
    _label(gateway, project_id, ids, NEG, "neg")
    result = run_iteration(
        gateway, History(db_url(), server=gateway.url), project_id, IterationSettings(model="tfidf-logreg", eval_size=2)
    )
    assert result.status == "succeeded" and result.n_predictions == 0
    assert result.message.endswith(
        " Nothing was queued: every task is labeled, so nothing is left to queue; import more tasks to continue."
    )
    assert "The queue now serves" not in result.message
    assert gateway.get_project(project_id).model_version == ""


def _unchanged(gateway: Gateway, project_id: int, history: History) -> None:
    project = gateway.get_project(project_id)
    assert project.model_version == "" and project.sampling != UNCERTAINTY_SAMPLING
    assert gateway.list_predictions(project_id) == []
    assert history.eval_set(project_id) == ()


def test_a_text_behind_a_url_is_refused_in_one_line_with_nothing_changed(
    label_studio: Connection, gateway: Gateway, unique_title: str
) -> None:
    # Case A1: tasks {"text": "http://.../doc7.txt"} used to "succeed" at 33% on a vocabulary of URL parts.
    config = f'<View><Text name="doc" value="$text" valueType="url"/>{CHOICES}</View>'
    project_id, ids = _project(
        gateway, label_studio, unique_title, config, lambda t: {"text": f"http://127.0.0.1:9/{t[:4]}.txt"}
    )
    _label(gateway, project_id, ids, POS[:3], "pos")
    _label(gateway, project_id, ids, NEG[:3], "neg")
    history = History(db_url(), server=gateway.url)
    with pytest.raises(LabelConfigError) as raised:
        run_iteration(gateway, history, project_id, IterationSettings(model="tfidf-logreg"))
    assert "\n" not in str(raised.value)
    assert re.fullmatch(
        r'<Text name="doc" valueType="url"> shows a text that Label Studio downloads .*\.', str(raised.value)
    )
    _unchanged(gateway, project_id, history)


def test_tasks_without_text_where_the_config_points_are_refused(
    label_studio: Connection, gateway: Gateway, unique_title: str
) -> None:
    config, _ = SHAPES["nested key"]
    project_id, _ = _project(gateway, label_studio, unique_title, config, lambda t: {"review": {"title": t}})  # no body
    history = History(db_url(), server=gateway.url)
    with pytest.raises(ConfigError) as raised:
        run_iteration(gateway, history, project_id, IterationSettings(model="tfidf-logreg"))
    assert str(raised.value) == (
        "None of the 14 tasks has a text at $review.body (the value of <Text name='doc'>): check that the tasks' "
        "data field matches the labeling config."
    )
    _unchanged(gateway, project_id, history)
