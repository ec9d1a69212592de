"""A detached pruner (``python -m al_core prune --detached``, as ``iterate`` starts it) dies with its data and
has a bounded lifetime: a real process against the real server.

Neither test depends on the machine's speed: the pruner cannot finish a version of ``OLD`` predictions in less
than its pauses take (``OLD / Pacing.batch - 1`` seconds), while the test acts within a poll of the first delete;
and a lifetime of 0 s is over before the first batch on any machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from al_core.labelstudio.gateway import Gateway
from al_core.settings import PROJECT_ROOT
from al_core.store.history import History
from bench.prune_annotators import build_project

OLD = 150
# Bounds, not costs: on a 2-core machine at load 30 the pruner's process took 78 s to start (importing al_core
# alone took 33 s); a bound is only reached when something is wrong.
STARTUP_S = 400


def _start(label_studio, data: Path, project_id: int, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "AL_DB_URL"}
    env.update(AL_DATA_DIR=str(data), LABEL_STUDIO_URL=label_studio.url, LABEL_STUDIO_API_KEY=label_studio.api_key)
    cmd = [sys.executable, "-m", "al_core", "prune", "--project", str(project_id), "--keep", "1", "--detached", *extra]
    return subprocess.Popen(cmd, cwd=str(PROJECT_ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_until_deleting(gateway: Gateway, project_id: int, old: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_S
    while gateway.model_versions(project_id).get(old, 0) >= OLD and proc.poll() is None:
        assert time.monotonic() < deadline, f"the pruner deleted nothing in {STARTUP_S} s"
        time.sleep(0.3)
    assert proc.poll() is None, proc.stdout.read().decode()


def test_a_detached_pruner_stops_when_its_data_is_deleted_and_recreates_nothing(
    label_studio, gateway: Gateway, tmp_path: Path
) -> None:
    project_id, old = build_project(gateway, tasks=OLD, old=OLD, seed=3)
    data = tmp_path / "data"
    History(f"sqlite:///{data / 'history.sqlite'}", server=label_studio.url)
    proc = _start(label_studio, data, project_id)
    _wait_until_deleting(gateway, project_id, old, proc)
    shutil.rmtree(data)
    assert proc.wait(timeout=150) == 0, proc.stdout.read().decode()  # it stops after the batch it is in
    assert not data.exists(), f"the pruner re-created {sorted(p.name for p in data.rglob('*'))}"
    assert 0 < gateway.model_versions(project_id).get(old, 0) < OLD  # it stopped part-way: the next prune resumes


def test_a_detached_pruner_stops_when_its_lifetime_is_over(label_studio, gateway: Gateway, tmp_path: Path) -> None:
    project_id, old = build_project(gateway, tasks=20, old=20, seed=4)
    data = tmp_path / "data"
    history = History(f"sqlite:///{data / 'history.sqlite'}", server=label_studio.url)
    proc = _start(label_studio, data, project_id, "--max-seconds", "0")
    assert proc.wait(timeout=STARTUP_S) == 0
    assert proc.stdout.read().decode().strip() == "Pruned 0 version(s): none"
    assert gateway.model_versions(project_id)[old] == 20  # without the bound it prunes the version: nothing deleted
    assert history.events(project_id, "prune") == []
