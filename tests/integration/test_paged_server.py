"""A Label Studio that caps its page size (``TASK_API_PAGE_SIZE_MAX=100``, a setting of Label Studio): every
listing is read to the server's total, so an iteration trains on, scores and queues every task."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from al_core.iteration import IterationSettings, run_iteration
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.gateway_payloads import FAST_IMPORT_FLAG, SLOW_IMPORT_WARNING
from al_core.labelstudio.label_config import TEMPLATES
from al_core.labelstudio.local_server import LocalServer, ServerStartFailed, start_local_server
from al_core.settings import Connection, db_url
from al_core.store.history import History
from tests.conftest import copy_label_studio, free_port


@pytest.fixture(scope="module")
def paged_server(label_studio_server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A second real Label Studio, started on a copy of the session server's database (no first-start migration)."""
    data: Path = tmp_path_factory.mktemp("labelstudio-paged")
    copy_label_studio(label_studio_server, data)
    try:
        # Also a server with Label Studio's default flags (as one the product did not start would have): its
        # prediction import recounts every task of the project on each request.
        flags = {"TASK_API_PAGE_SIZE_MAX": "100", FAST_IMPORT_FLAG: "false"}
        server = start_local_server(data, port=free_port(), extra_env=flags)
    except ServerStartFailed as err:
        pytest.fail(f"The paged Label Studio test server could not start:\n{err}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def paged(paged_server: LocalServer) -> Gateway:
    return Gateway(paged_server.connection.url, paged_server.connection.api_key)


def choice(label: str) -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


def test_250_tasks_30_labeled_are_all_read_scored_and_queued(
    paged: Gateway, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Its own data dir: on the copied database this server numbers its projects as the session's server numbers its
    # next ones, and history and saved models are kept by project id.
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path))
    project = paged.create_project("paged server", TEMPLATES["sentiment"])
    labeled = [
        {"data": {"text": f"{word} {i}"}, "annotations": [{"result": choice(label)}]}
        for i in range(15)
        for word, label in (("great product", "Positive"), ("awful service", "Negative"))
    ]
    unlabeled = [{"data": {"text": f"{'great' if i % 2 else 'awful'} thing number {i}"}} for i in range(220)]
    paged.import_tasks(project.id, [labeled + unlabeled])
    page = paged._raw("GET", "api/tasks", "probing", params={"project": project.id, "page_size": 5000})
    assert (len(page["tasks"]), page["total"]) == (100, 250), "the server caps its pages"
    assert len(paged.list_tasks(project.id)) == 250
    assert len(paged.list_tasks(project.id, labeled=False)) == 220

    result = run_iteration(paged, History(db_url(), server=paged.url), project.id, IterationSettings(upload_top=0))

    assert result.counts["n_tasks"] == 250
    assert result.n_unlabeled == result.n_scored == 220
    assert result.n_labeled + result.n_eval_labeled == 30
    assert result.n_predictions == len(paged.list_predictions(project.id, result.model_version)) == 220
    assert result.warnings == [SLOW_IMPORT_WARNING], "the user is told which setting makes uploads fast"
    assert result.counts["prediction_import"] == "per-project"


def test_the_import_mode_is_told_apart_and_a_deleted_task_is_left_out_on_either_server(
    paged_server: LocalServer, label_studio: Connection, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path))
    for conn, mode in ((paged_server.connection, "per-project"), (label_studio, "per-prediction")):
        fresh = Gateway(conn.url, conn.api_key)
        project = fresh.create_project("import mode", TEMPLATES["sentiment"])
        fresh.import_tasks(project.id, [[{"data": {"text": f"text {i}"}} for i in range(3)]])
        assert fresh.prediction_import_mode(project.id) == mode
        assert fresh.model_versions(project.id) == {}, "the probe wrote nothing"
        ids = [t.id for t in fresh.list_tasks(project.id)]
        fresh._raw("DELETE", f"api/tasks/{ids[0]}/", "deleting a task")
        sent = [{"task": tid, "result": choice("Positive"), "score": 0.5, "model_version": "v1"} for tid in ids]
        done = fresh.import_predictions_counted(project.id, sent)
        assert (done.created, done.tasks_gone) == (2, 1), mode
