"""The gateway against the real Label Studio server."""

from __future__ import annotations

import pytest

from al_core.errors import AuthenticationFailed, ConnectionFailed, LabelConfigError, NotFound
from al_core.labelstudio.gateway import UNCERTAINTY_SAMPLING, Gateway
from al_core.labelstudio.label_config import TEMPLATES

CONFIG = TEMPLATES["sentiment"]


def _chunks(n: int, size: int = 500):
    for start in range(0, n, size):
        yield [{"data": {"text": f"task number {i}"}} for i in range(start, min(n, start + size))]


def test_whoami_validates_the_key(gateway: Gateway) -> None:
    assert gateway.whoami().id >= 1


def test_wrong_key_is_a_clear_authentication_error(label_studio) -> None:
    with pytest.raises(AuthenticationFailed, match="refused the API key"):
        Gateway(label_studio.url, "not-a-valid-key").whoami()


def test_unreachable_url_is_a_clear_connection_error() -> None:
    with pytest.raises(ConnectionFailed, match="Cannot reach Label Studio at http://127.0.0.1:9"):
        Gateway("http://127.0.0.1:9", "key").whoami()


def test_unknown_project_is_not_found(gateway: Gateway) -> None:
    with pytest.raises(NotFound, match="No Project matches"):
        gateway.get_project(987654)


def test_invalid_config_carries_label_studios_own_message(gateway: Gateway, unique_title: str) -> None:
    bad = '<View><Choices name="x" toName="nope"><Choice value="a"/></Choices></View>'
    with pytest.raises(LabelConfigError, match='toName="nope" not found'):
        gateway.create_project(unique_title, bad)
    with pytest.raises(LabelConfigError, match='toName="nope" not found'):
        gateway.validate_label_config(bad)
    assert unique_title not in {p.title for p in gateway.list_projects()}


def test_import_list_predict_and_queue(gateway: Gateway, unique_title: str) -> None:
    project = gateway.create_project(unique_title, CONFIG)
    progress: list[int] = []
    assert gateway.import_tasks(project.id, _chunks(2000), on_progress=lambda d, t: progress.append(d)) == 2000
    assert progress == [500, 1000, 1500, 2000]
    assert project.id in {p.id for p in gateway.list_projects()}

    tasks = gateway.list_tasks(project.id, page_size=700)  # several pages
    assert len(tasks) == 2000 and len({t.id for t in tasks}) == 2000
    assert tasks[0].data["text"].startswith("task number")

    first = tasks[0]
    result = [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}]
    gateway.create_annotation(first.id, result)
    assert [t.id for t in gateway.list_tasks(project.id, labeled=True)] == [first.id]
    assert len(gateway.list_tasks(project.id, labeled=False)) == 1999
    labeled = gateway.labeled_tasks(project.id)
    assert labeled[0].annotations[0].result[0]["value"]["choices"] == ["Positive"]

    unlabeled = [t for t in tasks if t.id != first.id]
    scores = {t.id: (i * 7919 % 1999) / 1999 for i, t in enumerate(unlabeled)}
    preds = [{"task": tid, "result": [], "score": s, "model_version": "v-test"} for tid, s in scores.items()]
    assert gateway.import_predictions(project.id, preds, chunk_size=800) == 1999
    assert gateway.model_versions(project.id) == {"v-test": 1999}

    gateway.set_sampling(project.id, UNCERTAINTY_SAMPLING)
    gateway.set_model_version(project.id, "v-test")
    stored = gateway.get_project(project.id)
    assert stored.sampling == UNCERTAINTY_SAMPLING and stored.model_version == "v-test"
    served = gateway.next_task(project.id)
    assert served is not None and served.id == min(scores, key=scores.get)

    # Deleting is slow in Label Studio (~63 ms per prediction): delete a small version only.
    small = [{"task": t.id, "result": [], "score": 0.5, "model_version": "v-small"} for t in unlabeled[:20]]
    gateway.import_predictions(project.id, small)
    assert gateway.model_versions(project.id) == {"v-test": 1999, "v-small": 20}
    gateway.delete_model_version(project.id, "v-small")
    assert gateway.model_versions(project.id) == {"v-test": 1999}
