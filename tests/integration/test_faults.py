"""Faults, concurrency and a crashed holder, against the real Label Studio (through a fault proxy where the
network has to fail). Nothing may be lost: failed runs are recorded, the queue keeps its version."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from al_core.errors import ConnectionFailed, HistoryUnavailable, IterationLocked, ServerError
from al_core.iteration import IterationSettings, run_iteration
from al_core.lab.sample import GoldAnnotator, create_sample_project, sample_gold
from al_core.labelstudio.gateway import Gateway
from al_core.pruning import prune_versions
from al_core.settings import db_url
from al_core.store.history import History
from al_core.store.rows import LockRow
from tests.faultproxy import FaultProxy


@pytest.fixture
def proxy(label_studio) -> Iterator[FaultProxy]:
    p = FaultProxy(label_studio.url)
    yield p
    p.close()


@pytest.fixture(scope="module")
def project(gateway: Gateway):
    project = create_sample_project(gateway, "faults")
    GoldAnnotator(gateway, project.id, sample_gold().get).label(30)
    return project


def test_server_cut_during_upload_loses_nothing(label_studio, gateway: Gateway, project, proxy: FaultProxy) -> None:
    flaky = Gateway(proxy.url, label_studio.api_key)
    history = History(db_url(), server=proxy.url)  # the server as reached through the proxy: its own history
    first = run_iteration(flaky, history, project.id, IterationSettings(upload_top=100))

    def cut_mid_upload(step: str, fraction: float, _: str) -> None:
        if step == "upload" and 0 < fraction < 1:
            proxy.down()

    # Small chunks so the cut lands between two upload requests of the same version.
    settings = IterationSettings(upload_top=0)
    with pytest.raises(ConnectionFailed, match="Cannot reach Label Studio"):
        _run_with_small_chunks(flaky, history, project.id, settings, cut_mid_upload)
    failed = history.iterations(project.id)[-1]
    assert failed.status == "failed" and "Cannot reach Label Studio" in failed.error
    assert gateway.get_project(project.id).model_version == first.model_version  # the queue is unchanged
    assert gateway.model_versions(project.id).get(failed.model_version, 0) > 0  # partial upload landed

    proxy.up()
    again = run_iteration(flaky, history, project.id, IterationSettings(upload_top=100), force=True)
    assert again.status == "succeeded"
    assert gateway.get_project(project.id).model_version == again.model_version
    # The background pruner removes the failed version's partial predictions (it is not a kept version).
    pruned = prune_versions(flaky, history, project.id, keep=3)
    assert failed.model_version in pruned
    assert failed.model_version not in gateway.model_versions(project.id)


def _run_with_small_chunks(gw: Gateway, history: History, project_id: int, settings, on_progress):
    original = gw.import_predictions

    def small_chunks(pid, predictions, **kwargs):
        return original(pid, predictions, chunk_size=200, on_progress=kwargs.get("on_progress"))

    gw.import_predictions = small_chunks  # type: ignore[method-assign]
    return run_iteration(gw, history, project_id, settings, on_progress=on_progress, force=True)  # same labels


def test_5xx_on_idempotent_calls_is_retried_then_reported(label_studio, project, proxy: FaultProxy) -> None:
    proxy.fail_next = 2
    assert Gateway(proxy.url, label_studio.api_key).get_project(project.id).id == project.id
    assert proxy.served_503 == 2
    proxy.fail_next = 10
    with pytest.raises(ServerError, match="failed with 503"):
        Gateway(proxy.url, label_studio.api_key).get_project(project.id)


def test_unreachable_at_start_is_a_clear_error(label_studio, proxy: FaultProxy) -> None:
    proxy.down()
    with pytest.raises(ConnectionFailed, match=f"Cannot reach Label Studio at {proxy.url}"):
        Gateway(proxy.url, label_studio.api_key).whoami()


def test_two_simultaneous_runs_exactly_one_runs(gateway: Gateway, project) -> None:
    history = History(db_url(), server=gateway.url)
    before = len(history.iterations(project.id))
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def click(owner: str) -> None:
        barrier.wait()
        try:
            run_iteration(gateway, history, project.id, IterationSettings(upload_top=50), owner=owner, force=True)
            outcomes.append("ran")
        except IterationLocked as err:
            outcomes.append(str(err))

    threads = [threading.Thread(target=click, args=(f"browser {i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert sorted(o == "ran" for o in outcomes) == [False, True]
    refused = next(o for o in outcomes if o != "ran")
    assert "already running" in refused and "started by browser" in refused and "UTC" in refused
    assert len(history.iterations(project.id)) == before + 1


def test_a_stale_lock_from_a_crashed_process_is_recovered(gateway: Gateway, project) -> None:
    history = History(db_url(), server=gateway.url)
    dead_pid = 2**22 + 12345  # above Linux's default pid_max: no such process
    with history._session() as s:
        s.add(
            LockRow(
                server=history.server,
                project_id=project.id,
                owner="a crashed process",
                host=os.uname().nodename,
                pid=dead_pid,
            )
        )
    result = run_iteration(gateway, history, project.id, IterationSettings(upload_top=50), force=True)
    assert result.status == "succeeded"
    assert history.lock_holder(project.id) is None


def test_history_database_unavailable_is_a_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where a directory should be")
    with pytest.raises(HistoryUnavailable, match="history database .* is unavailable"):
        History(f"sqlite:///{blocked}/history.sqlite", server="http://127.0.0.1:8080")
