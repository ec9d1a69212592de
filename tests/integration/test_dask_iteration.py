"""An iteration whose Dask cluster cannot be reached fails cleanly against the real Label Studio: recorded as
failed with a one-line reason, nothing uploaded, the queue unchanged. (The cluster's results themselves are
compared with this process's in tests/unit/compute/test_dask_engine.py, on a real LocalCluster.)"""

from __future__ import annotations

import pytest

from al_core.compute import dask_engine
from al_core.errors import ComputeError
from al_core.iteration import IterationSettings, run_iteration
from al_core.labelstudio.gateway import Gateway
from al_core.settings import db_url
from al_core.store.history import History
from tests.conftest import create_small_sample_project, free_port


def test_a_scheduler_where_nothing_listens_fails_the_iteration_cleanly(
    gateway: Gateway, unique_title: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dask_engine, "CONNECT_SECONDS", 1.0)
    project = create_small_sample_project(gateway, unique_title)
    address = f"tcp://127.0.0.1:{free_port()}"
    history = History(db_url(), server=gateway.url)

    with pytest.raises(ComputeError, match=rf"^Could not reach the Dask scheduler at {address} within 1 s"):
        run_iteration(gateway, history, project.id, IterationSettings(model="tfidf-logreg", dask_scheduler=address))

    [failed] = history.iterations(project.id)
    assert failed.status == "failed" and failed.error.startswith(f"Could not reach the Dask scheduler at {address}")
    assert "\n" not in failed.error and failed.settings.dask_scheduler == address
    after = gateway.get_project(project.id)
    assert (after.model_version, after.sampling) == (project.model_version, project.sampling)
    assert gateway.model_versions(project.id) == {}, "nothing uploaded"
