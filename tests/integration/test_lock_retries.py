"""Writes that fail on a lock are retried safely, against the real Label Studio: only what did not land is sent
again, and nothing is ever created twice.

A real lock, on purpose: the test holds a write transaction on Label Studio's SQLite file (``BEGIN IMMEDIATE``)
while the product's write is sent, and releases it once Label Studio has refused the write (HTTP 500 after its
5-second busy timeout; ``tests/ls_sqlite.py`` says why the refusal comes in seconds, whatever the machine's load).
A lost answer: the request reaches the real server, then the answer is replaced by a 500 (as when the counter
update after an insert meets the lock).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from al_core.errors import ServerError
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES, parse_label_config, prediction_result
from tests import ls_sqlite

CONFIG = TEMPLATES["sentiment"]
SPEC = parse_label_config(CONFIG)


class Recording(Gateway):
    """The real gateway; records each POST's outcome, and can lose the answers of the next ``lose`` POSTs to a
    path (the request reaches Label Studio; ``part`` of its body is sent when only part should land)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.posts: list[tuple[str, int, str]] = []
        self.lose: dict[str, int] = {}
        self.part = 1.0
        self.refused = threading.Event()  # set when Label Studio answered a POST with a 5xx

    def _raw(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        key = next((k for k in self.lose if k in path), None)
        if method == "POST" and key and self.lose[key] > 0:
            self.lose[key] -= 1
            body = kwargs.pop("body")
            super()._raw(
                method, path, what, body=body[: int(len(body) * self.part)] if self.part < 1 else body, **kwargs
            )
            self.posts.append((path, len(body), "lost"))
            raise ServerError(f"Label Studio failed with 500 while {what}: an error page (500 | Label Studio)")
        try:
            answer = super()._raw(method, path, what, **kwargs)
        except ServerError:
            if method == "POST":
                self.posts.append((path, len(kwargs.get("body") or ()), "500"))
                self.refused.set()
            raise
        if method == "POST":
            self.posts.append((path, len(kwargs.get("body") or ()), "ok"))
        return answer


@pytest.fixture
def recording(label_studio) -> Recording:
    return Recording(label_studio.url, label_studio.api_key)


def _project(gateway: Gateway, title: str, n: int) -> tuple[int, list[int]]:
    project = gateway.create_project(title, CONFIG)
    gateway.import_tasks(project.id, [[{"text": f"text {i}"} for i in range(n)]])
    return project.id, sorted(t.id for t in gateway.list_tasks(project.id, include="id"))


def _predictions(task_ids: list[int], version: str) -> list[dict[str, Any]]:
    return [
        {"task": t, "result": prediction_result(SPEC, "Positive"), "score": 0.5, "model_version": version}
        for t in task_ids
    ]


def _per_task(gateway: Gateway, project_id: int, version: str) -> Counter:
    return Counter(p.task for p in gateway.list_predictions(project_id, version))


def test_a_prediction_import_that_meets_a_lock_is_sent_again_and_lands_once(
    recording, label_studio_server, unique_title
) -> None:
    project_id, ids = _project(recording, unique_title, 100)
    db, mark = ls_sqlite.database(label_studio_server), ls_sqlite.log_mark(label_studio_server)
    with ls_sqlite.allow_refusals(db), ls_sqlite.write_lock(db, until=recording.refused):  # until refused once
        done = recording.import_predictions_counted(project_id, _predictions(ids, "al-0001-lock"))
    imports = [(n, outcome) for path, n, outcome in recording.posts if path.endswith("import/predictions")]
    assert imports[0] == (100, "500"), imports  # Label Studio refused while the lock was held ...
    assert ls_sqlite.locked_since(label_studio_server, mark) > 0  # ... because of the lock
    assert imports[1:] == [(100, "ok")]  # nothing had landed, so everything was sent again, once
    assert (done.created, done.tasks_gone) == (100, 0)
    assert _per_task(recording, project_id, "al-0001-lock") == Counter(ids)  # exactly one prediction per task


@pytest.mark.parametrize(("part", "resent"), [(1.0, None), (0.5, 50)])
def test_a_prediction_import_whose_answer_is_lost_sends_only_what_did_not_land(
    recording, unique_title, part, resent
) -> None:
    project_id, ids = _project(recording, unique_title, 100)
    recording.import_predictions(project_id, _predictions(ids[:10], "al-0001-before"))  # another version
    recording.lose, recording.part = {"import/predictions": 1}, part
    done = recording.import_predictions_counted(project_id, _predictions(ids, "al-0002-lost"))
    imports = [(n, outcome) for path, n, outcome in recording.posts if path.endswith("import/predictions")]
    assert imports[1] == (100, "lost")
    assert imports[2:] == ([] if resent is None else [(resent, "ok")])
    assert done.created == 100
    assert _per_task(recording, project_id, "al-0002-lost") == Counter(ids)
    assert _per_task(recording, project_id, "al-0001-before") == Counter(ids[:10])


def test_tasks_annotations_and_projects_whose_answer_is_lost_are_not_created_twice(recording, unique_title) -> None:
    recording.lose = {"api/projects/": 1}
    project = recording.create_project(unique_title, CONFIG)
    assert [p.title for p in recording.list_projects()].count(unique_title) == 1

    recording.lose = {"/import": 1}
    created = recording.import_tasks(project.id, [[{"text": f"text {i}"} for i in range(50)]])
    assert created == 50 and recording.get_project(project.id).task_number == 50

    task = recording.list_tasks(project.id, include="id")[0].id
    recording.lose = {"/annotations/": 1}
    annotation = recording.create_annotation(task, prediction_result(SPEC, "Negative"))
    assert recording._annotation_ids(task) == [annotation]
