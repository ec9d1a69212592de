"""What the gateway sends as filters and how it reads Label Studio's rows, without a server."""

from __future__ import annotations

import json
from types import SimpleNamespace

from al_core.labelstudio.gateway_payloads import (
    completed_filter,
    listed_task,
    prediction,
    project,
    task_meta,
    task_with_annotations,
    updated_after_filter,
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
