"""One history database, two real Label Studio servers (the README allows switching ``LABEL_STUDIO_URL``): their
project ids collide, and each server's project keeps its own evaluation set, version numbering, live agreement,
run lock, automation settings and artifacts.

The second server starts from a copy of the session server's database (``copy_label_studio``): the same users,
projects and id sequences, so the next project created on each gets the same id, as two fresh servers would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from al_core.iteration import IterationSettings, run_iteration
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES, parse_label_config, prediction_result
from al_core.labelstudio.local_server import LocalServer, ServerStartFailed, start_local_server
from al_core.labelstudio.records import Project
from al_core.settings import PROJECT_ROOT, db_url
from al_core.store import versions
from al_core.store.history import History
from tests.conftest import copy_label_studio, free_port

SETTINGS = IterationSettings(model="tfidf-logreg", upload_top=0, eval_size=8, diversity=False)


@pytest.fixture(scope="module")
def second_server(label_studio_server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    data: Path = tmp_path_factory.mktemp("labelstudio-second")
    copy_label_studio(label_studio_server, data)
    try:
        server = start_local_server(data, port=free_port())
    except ServerStartFailed as err:
        pytest.fail(f"The second Label Studio test server could not start:\n{err}", pytrace=False)
    yield server
    server.stop()


def _texts(prefix: str, n: int) -> list[tuple[str, str]]:
    return [(f"{prefix} {word} number {i}", label) for i in range(n) for word, label in WORDS]


WORDS = (("great product, love it", "Positive"), ("awful service, never again", "Negative"))


def _project(gateway: Gateway, title: str, rows: list[tuple[str, str]], labeled: int) -> Project:
    """A sentiment project holding ``rows``, the first ``labeled`` of them annotated."""
    project = gateway.create_project(title, TEMPLATES["sentiment"])
    spec = parse_label_config(project.label_config)
    tasks = [
        {
            "data": {"text": text},
            **({"annotations": [{"result": prediction_result(spec, label)}]} if i < labeled else {}),
        }
        for i, (text, label) in enumerate(rows)
    ]
    gateway.import_tasks(project.id, [tasks])
    return project


def _same_ids(one: Gateway, two: Gateway) -> tuple[Project, Project]:
    """A project on each server with the same id (ids are per server: created alike, they collide), holding
    tasks of other ids (server two's task ids come after 90 tasks of a project created only there)."""
    spacer, filler = (
        one.create_project("spacer", TEMPLATES["sentiment"]),
        two.create_project("filler", TEMPLATES["sentiment"]),
    )
    while spacer.id < filler.id:
        spacer = one.create_project("spacer", TEMPLATES["sentiment"])
    while filler.id < spacer.id:
        filler = two.create_project("filler", TEMPLATES["sentiment"])
    two.import_tasks(filler.id, [[{"text": f"filler {i}"} for i in range(90)]])
    first = _project(one, "server one", _texts("one", 30), labeled=24)
    second = _project(two, "server two", _texts("two", 25), labeled=20)
    assert first.id == second.id == spacer.id + 1
    return first, second


def _label(gateway: Gateway, project_id: int, n: int, skip: set[int]) -> None:
    """Annotate ``n`` more unlabeled tasks outside ``skip`` (the evaluation set) with their true label."""
    spec = parse_label_config(gateway.get_project(project_id).label_config)
    todo = [t for t in gateway.list_tasks(project_id, labeled=False) if t.id not in skip][:n]
    for task in todo:
        label = next(label for word, label in WORDS if word in task.data["text"])
        gateway.create_annotation(task.id, prediction_result(spec, label))


def _cli(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "al_core", *args, "--json"],
        capture_output=True,
        text=True,
        cwd=str(PROJECT_ROOT),
        env={k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_each_servers_project_keeps_its_own_history_in_one_database(
    label_studio, gateway: Gateway, second_server: LocalServer
) -> None:
    one, two = gateway, Gateway(second_server.connection.url, second_server.connection.api_key)
    assert one.url != two.url
    first, second = _same_ids(one, two)
    pid = first.id
    history_one, history_two = History(db_url(), server=one.url), History(db_url(), server=two.url)
    tasks_one = {t.id for t in one.list_tasks(pid)}
    tasks_two = {t.id for t in two.list_tasks(pid)}
    assert tasks_one.isdisjoint(tasks_two), "the task ids of the two projects differ"

    # Server one: two versions; the second measures the live agreement of the first.
    v1 = run_iteration(one, history_one, pid, SETTINGS)
    eval_one = history_one.eval_set(pid)
    assert v1.model_version.startswith("al-0001-n") and len(eval_one) == 8 and set(eval_one) <= tasks_one
    _label(one, pid, 6, set(eval_one))
    v2 = run_iteration(one, history_one, pid, SETTINGS)
    assert v2.model_version.startswith("al-0002-n") and v2.metrics["live_agreement"] is not None
    history_one.save_automation(pid, every=3, settings={"strategy": "entropy"})

    # Server two, project of the same id, while a run on server one holds its lock: its own everything.
    with history_one.run_lock(pid, "a run on server one"):
        w1 = run_iteration(two, history_two, pid, SETTINGS)
    eval_two = history_two.eval_set(pid)
    assert w1.status == "succeeded" and not w1.cold_start
    assert w1.model_version.startswith("al-0001-n"), "its own numbering, not al-0003"
    assert len(eval_two) == 8 and set(eval_two) <= tasks_two, "its own evaluation set, of its own tasks"
    assert w1.metrics["live_agreement"] is None, "no earlier version of its own to agree with"
    assert history_two.automation(pid) is None and history_one.eval_set(pid) == eval_one
    assert two.get_project(pid).model_version == w1.model_version
    assert one.get_project(pid).model_version == v2.model_version, "server one's queue untouched"

    # A second version on server two, from the command line: compared with its own first version.
    _label(two, pid, 5, set(eval_two))
    conn_two = ("--url", f" {two.url}/ ", "--api-key", f"Token {second_server.connection.api_key}")
    w2 = _cli("iterate", *conn_two, "--project", str(pid), "--model", "tfidf-logreg", "--no-prune", "--no-diversity")
    assert w2["model_version"].startswith("al-0002-n") and w2["metrics"]["live_agreement"] is not None

    # Each server's status, and each version's artifacts in its own server's folder.
    status_one = _cli("status", "--url", one.url, "--api-key", label_studio.api_key, "--project", str(pid))
    status_two = _cli("status", *conn_two, "--project", str(pid))
    assert [it["model_version"] for it in status_one["iterations"]] == [v1.model_version, v2.model_version]
    assert [it["model_version"] for it in status_two["iterations"]] == [w1.model_version, w2["model_version"]]
    assert (status_one["eval_set"], status_two["eval_set"]) == (8, 8)
    assert (status_one["automation"]["every"], status_two["automation"]["every"]) == (3, None)
    assert (status_one["server"], status_two["server"]) == (one.url, two.url)
    for history, version in ((history_one, v2.model_version), (history_two, w2["model_version"])):
        record = history.get_iteration(pid, version)
        assert record is not None and versions.saved_model(record).is_file()
        assert versions.saved_model(record) == versions.model_path(history.server, pid, version)
    assert versions.version_dir(one.url, pid, "al-0001") != versions.version_dir(two.url, pid, "al-0001")
