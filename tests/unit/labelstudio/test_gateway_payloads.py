"""What the gateway sends as filters and how it reads Label Studio's rows, without a server."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from al_core.errors import LabelStudioError
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.gateway_errors import from_status
from al_core.labelstudio.gateway_payloads import (
    FAST_IMPORT_FLAG,
    PREDICTION_CHUNK,
    SLOW_IMPORT_WARNING,
    TaskImport,
    User,
    Webhook,
    check_created,
    check_listed,
    completed_filter,
    import_mode,
    listed_task,
    prediction,
    project,
    task_gone,
    task_import,
    task_meta,
    task_query,
    task_with_annotations,
    tasks_unlanded,
    updated_after_filter,
    user,
    webhook_row,
)
from al_core.labelstudio.records import Annotation, Prediction, Project, Task

CHOICE = {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}


def test_the_data_manager_filters():
    assert json.loads(completed_filter(empty=True)) == {
        "filters": {
            "conjunction": "and",
            "items": [{"filter": "filter:tasks:completed_at", "operator": "empty", "type": "Datetime", "value": True}],
        }
    }
    assert json.loads(completed_filter(empty=False))["filters"]["items"][0]["value"] is False
    assert json.loads(updated_after_filter("2026-01-02T03:04:05.000000Z"))["filters"]["items"] == [
        {
            "filter": "filter:tasks:updated_at",
            "operator": "greater",
            "type": "Datetime",
            "value": "2026-01-02T03:04:05.000000Z",
        }
    ]


def test_a_listed_task_keeps_its_timestamps_in_meta():
    row = {"id": "12", "data": {"text": "hi"}, "updated_at": "u", "created_at": "c", "total_annotations": 0}
    task = listed_task(row)
    assert task == Task(12, {"text": "hi"})
    assert task.meta == {"updated_at": "u", "created_at": "c"}
    assert listed_task({"id": 3, "data": None}) == Task(3, {})
    assert task_meta({"id": 3}) == {}


def test_an_exported_task_with_its_annotations():
    row = {
        "id": 7,
        "data": {"text": "great"},
        "created_at": "c",
        "annotations": [
            {"id": 1, "result": [CHOICE], "completed_by": 4, "updated_at": "2026-01-02", "created_at": "2026-01-01"},
            {"id": 2, "result": [], "was_cancelled": True, "ground_truth": 1, "created_at": "2026-01-03"},
            {"id": 3, "completed_by": {"id": 4, "email": "a@b"}},  # an expanded user is not an id
        ],
    }
    task = task_with_annotations(row)
    assert task == Task(
        7,
        {"text": "great"},
        (
            Annotation(1, (CHOICE,), updated_at="2026-01-02", completed_by=4),
            Annotation(2, (), was_cancelled=True, ground_truth=True, updated_at="2026-01-03"),
            Annotation(3, ()),
        ),
    )
    assert task.meta == {"created_at": "c"}
    assert task_with_annotations({"id": 8}).annotations == ()


def test_a_prediction_row():
    row = {"id": 5, "task": "9", "model_version": "al-0001-n20", "score": 0.25, "result": [CHOICE]}
    assert prediction(row) == Prediction(5, 9, "al-0001-n20", 0.25, (CHOICE,))
    assert prediction({"id": 6, "task": 9, "model_version": None}) == Prediction(6, 9, "", None, ())


def test_the_sdks_project_as_ours():
    sdk = SimpleNamespace(
        id="3",
        title="Reviews",
        label_config="<View/>",
        task_number=120,
        num_tasks_with_annotations=None,
        sampling="Uncertainty sampling",
        model_version="al-0002-n40",
        maximum_annotations=1,
    )
    assert project(sdk) == Project(3, "Reviews", "<View/>", 120, 0, "Uncertainty sampling", "al-0002-n40", 1)
    bare = SimpleNamespace(id=4, title=None, label_config=None)
    assert project(bare) == Project(4, "", "", 0, 0, "", "", 1)


def test_task_import_counts_what_was_sent_and_what_label_studio_created():
    chunk = [
        {"data": {"text": "a"}, "annotations": [{"result": []}, {"result": []}], "predictions": [{"result": []}]},
        {"data": {"text": "b"}},
        {"text": "bare"},
    ]
    answer = {"task_count": 3, "annotation_count": 2, "prediction_count": 0, "duration": 0.1}
    done = task_import(chunk, answer)
    assert done == TaskImport(3, 2, 0, 3, 2, 1)
    assert task_import(chunk, None) == TaskImport(3, 2, 1, 3, 2, 1), "an answer without counts: taken as sent"
    assert done + done == TaskImport(6, 4, 0, 6, 4, 2)
    assert done.shortfalls() == [
        "Label Studio created 0 of the 1 predictions it was sent; the other 1 were left out (see its server log)."
    ]


def test_a_listing_short_of_the_servers_total_is_an_error():
    check_listed("tasks of project 3", 100, 250, more=True)  # another page to read
    check_listed("tasks of project 3", 250, 250, more=False)
    with pytest.raises(LabelStudioError, match=r"^Label Studio said it holds 250 tasks of project 3 but sent 100;"):
        check_listed("tasks of project 3", 100, 250, more=False)


def test_list_tasks_follows_pages_capped_by_the_server_to_its_total(monkeypatch):
    gateway = Gateway("http://127.0.0.1:9", "unit-test-key")
    rows = [{"id": i, "data": {"text": str(i)}} for i in range(250)]
    asked: list[int] = []

    def page_of(project_id, page, page_size, query, include, *, served=rows, cap=100):
        asked.append(page)
        part = served[(page - 1) * cap : page * cap]
        return {"tasks": part, "total": 250} if part else None  # past the end: Label Studio answers 404

    monkeypatch.setattr(gateway, "_tasks_page", page_of)
    assert [t.id for t in gateway.list_tasks(3)] == list(range(250)) and asked == [1, 2, 3]
    monkeypatch.setattr(gateway, "_tasks_page", lambda *a: page_of(*a, served=rows[:180]))
    with pytest.raises(LabelStudioError, match="holds 250 tasks of project 3 but sent 180"):
        gateway.list_tasks(3)


def test_fewer_predictions_created_than_sent_is_an_error_naming_both():
    assert check_created(3, 3, 7) == 3
    with pytest.raises(LabelStudioError, match="created 2 of 3 predictions in one upload to project 7"):
        check_created(2, 3, 7)


def test_after_a_failed_task_import_only_a_request_that_landed_nowhere_is_sent_again():
    chunk = [{"text": "a"}, {"text": "b"}, {"data": {"text": "c"}}]
    assert tasks_unlanded(chunk, 0, "importing") == chunk
    assert tasks_unlanded(chunk, 3, "importing") == []
    with pytest.raises(LabelStudioError, match="after creating 2 of the 3 tasks of one request; nothing was sent"):
        tasks_unlanded(chunk, 2, "importing")
    with_annotations = [{"data": {"text": "a"}, "annotations": [{"result": []}]}]
    with pytest.raises(LabelStudioError, match=r"1 of the 1 tasks of one request \(with their annotations or pred"):
        tasks_unlanded(with_annotations, 1, "importing")  # whether its annotation landed cannot be told
    assert tasks_unlanded(with_annotations, 0, "importing") == with_annotations


def test_the_task_listing_query():
    assert task_query(None, None) is None
    assert json.loads(task_query(True, "2026-01-01T00:00:00.000000Z"))["filters"]["items"][0]["value"] is False
    assert json.loads(task_query(None, "2026-01-01T00:00:00.000000Z"))["filters"]["items"][0]["operator"] == "greater"


def test_a_webhook_row():
    row = {"id": "4", "url": "http://x/webhook", "project": 2, "actions": ["ANNOTATION_CREATED"], "headers": {}}
    assert webhook_row(row) == Webhook(4, "http://x/webhook", 2, ("ANNOTATION_CREATED",))


def test_a_user_is_named_the_way_a_team_knows_it():
    sdk = SimpleNamespace(id="4", email="ann@example.com", username="ann", first_name="Ann", last_name=None)
    assert user(sdk) == User(4, "ann@example.com", "ann", "Ann", "")
    assert user(sdk).name == "Ann <ann@example.com>"
    assert User(4, "ann@example.com", "ann").name == "ann@example.com"
    assert User(4, "", "ann").name == "ann" and User(4, "", "").name == "user 4"
    assert user(SimpleNamespace(id=2)) == User(2, "", "")  # fields the server left out


# Label Studio 1.23.2's answers to IMPORT_PROBE: the per-project one captured from a server started without the flag;
# the per-prediction one as data_import/api.py::_create_memory_efficient words it (the integration tests check both).
_PROBE_ITEM = "{'task': 0, 'result': [], 'score': 0.0, 'model_version': 'al-import-probe'}"
PER_PROJECT_ANSWER = {
    "id": "2d6a3d96-51f5-42d8-8504-e91239c11a6a",
    "status_code": 400,
    "version": "1.23.2",
    "detail": "Validation error",
    "exc_info": None,
    "validation_errors": {
        "non_field_errors": [
            f'{_PROBE_ITEM} contains invalid "task" field: corresponding task ID couldn\'t be retrieved from project '
            "probe (id=1) tasks"
        ]
    },
}
PER_PREDICTION_ANSWER = {
    **PER_PROJECT_ANSWER,
    "validation_errors": {
        "non_field_errors": [
            f'{_PROBE_ITEM} contains invalid "task" field: task ID 0 not found in project probe (id=1)'
        ]
    },
}


@pytest.mark.parametrize(
    ("answer", "mode"),
    [
        (PER_PROJECT_ANSWER, "per-project"),
        (PER_PREDICTION_ANSWER, "per-prediction"),
        ({"detail": "Validation error", "validation_errors": {"x": ["something else"]}}, "unknown"),
    ],
)
def test_the_import_mode_is_read_from_the_refusal_of_the_probe(answer, mode):
    refusal = str(from_status(400, answer, "http://ls", "checking how project 1 imports predictions"))
    assert import_mode(refusal) == mode


def test_a_deleted_task_is_recognized_in_either_import_s_words():
    for answer in (PER_PROJECT_ANSWER, PER_PREDICTION_ANSWER):
        assert task_gone(str(from_status(400, answer, "http://ls", "uploading predictions")))
    assert not task_gone("Label Studio answered 400 while uploading predictions: {'result': ['bad label']}")


def test_requests_are_few_where_each_recounts_the_project():
    assert PREDICTION_CHUNK["per-project"] > PREDICTION_CHUNK["per-prediction"] == PREDICTION_CHUNK["unknown"]
    assert FAST_IMPORT_FLAG in SLOW_IMPORT_WARNING and "\n" not in SLOW_IMPORT_WARNING
