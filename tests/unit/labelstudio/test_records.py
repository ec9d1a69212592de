"""Our own records of Label Studio's objects: frozen, with the defaults a listing without them relies on, and
a task's listing metadata left out of equality (the same task listed twice at different times is the same)."""

from __future__ import annotations

import dataclasses

import pytest

from al_core.labelstudio.records import Annotation, Prediction, Project, Task


def test_a_task_is_its_id_data_and_annotations_not_when_it_was_listed():
    first = Task(1, {"text": "a"}, meta={"updated_at": "2026-01-01"})
    again = Task(1, {"text": "a"}, meta={"updated_at": "2026-02-01"})
    assert first == again
    assert first != Task(1, {"text": "a"}, annotations=(Annotation(5, ()),))
    assert (first.meta, again.meta) == ({"updated_at": "2026-01-01"}, {"updated_at": "2026-02-01"})


def test_the_defaults():
    assert Task(1, {}).annotations == () and Task(1, {}).meta == {}
    assert Annotation(5, ()) == Annotation(5, (), False, False, "", None)
    project = Project(3, "t", "<View/>")
    assert (project.task_number, project.num_tasks_with_annotations, project.maximum_annotations) == (0, 0, 1)
    assert (project.sampling, project.model_version) == ("", "")


@pytest.mark.parametrize(
    "record",
    [Task(1, {}), Annotation(1, ()), Project(1, "t", ""), Prediction(1, 2, "al-0001-n10", 0.5, ())],
)
def test_records_are_frozen(record):
    field = dataclasses.fields(record)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(record, field, 99)
