"""Artifacts of model versions (where they live, the pool predictions round trip), which versions are pruned,
and rollback; Label Studio and the history are small fakes here (the real ones are in the integration tests)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from types import SimpleNamespace

import numpy as np
import pytest

from al_core.errors import NotFound
from al_core.settings import server_slug
from al_core.store.records import IterationRecord
from al_core.store.versions import (
    PoolPredictions,
    load_pool_predictions,
    model_path,
    rollback,
    save_pool_predictions,
    saved_dir,
    saved_model,
    version_dir,
    versions_to_prune,
)

LS = "http://127.0.0.1:8080"  # the server whose projects these are
OTHER = "https://ls.example.com"  # another server, with the same project ids


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path))
    return tmp_path


class FakeGateway:
    url = LS

    def __init__(self, current: str, present: dict[str, int]) -> None:
        self.current, self.present = current, present
        self.switched: list[tuple[int, str]] = []

    def get_project(self, project_id: int):
        return SimpleNamespace(id=project_id, model_version=self.current)

    def model_versions(self, project_id: int) -> dict[str, int]:
        return dict(self.present)

    def set_model_version(self, project_id: int, version: str) -> None:
        self.switched.append((project_id, version))
        self.current = version


class FakeHistory:
    def __init__(self, succeeded: list[str]) -> None:
        self._succeeded = succeeded
        self.events: list[tuple[int, str, dict]] = []

    def check_server(self, url: str) -> None:
        assert url == LS

    def succeeded(self, project_id: int) -> list[SimpleNamespace]:
        return [SimpleNamespace(model_version=v) for v in self._succeeded]  # oldest first, as the history returns

    def add_event(self, project_id: int, kind: str, detail: dict) -> None:
        self.events.append((project_id, kind, detail))


def fingerprint(pool: PoolPredictions) -> str:
    ids = pool.task_ids.astype(np.int64).tobytes() + pool.labeled_ids.astype(np.int64).tobytes()
    return hashlib.sha256(ids + "\0".join(pool.predicted).encode()).hexdigest()


def test_artifacts_live_per_server_project_and_version(data_dir):
    folder = data_dir / "artifacts" / server_slug(LS) / "project-3" / "al-0002-n40"
    assert version_dir(LS, 3, "al-0002-n40") == folder == version_dir(" http://127.0.0.1:8080/ ", 3, "al-0002-n40")
    assert model_path(LS, 3, "al-0002-n40") == folder / "model.joblib"
    assert version_dir(OTHER, 3, "al-0002-n40") != folder, "project 3 of another server has its own folder"


def _record(server: str, version: str, artifact_path: str | None) -> IterationRecord:
    started = datetime(2025, 3, 1, 9)
    return IterationRecord(1, 3, 2, version, "succeeded", "manual", started, artifact_path=artifact_path, server=server)


def test_a_version_made_before_servers_is_found_for_the_server_its_history_belongs_to(data_dir):
    old = data_dir / "artifacts" / "project-3" / "al-0002-n40"  # where the previous version kept it
    old.mkdir(parents=True)
    (old / "model.joblib").write_bytes(b"model")
    pool = PoolPredictions(np.array([7, 8]), ("a", "b"), np.array([1]))
    np.savez_compressed(old / "pool.npz", task_ids=pool.task_ids, predicted=np.array(pool.predicted), labeled_ids=[1])
    recorded = str(old / "model.joblib")  # its record, attached to LS by the upgrade (migration 0005)
    mine = _record(LS, "al-0002-n40", recorded)
    assert saved_dir(LS, 3, "al-0002-n40", recorded) == old and saved_model(mine) == old / "model.joblib"
    assert load_pool_predictions(LS, 3, "al-0002-n40", recorded).as_dict() == {7: "a", 8: "b"}
    elsewhere = data_dir / "old-data-dir" / "artifacts" / "project-3" / "al-0002-n40" / "model.joblib"
    assert saved_dir(LS, 3, "al-0002-n40", str(elsewhere)) == old, "a data dir moved since: this machine's, as before"

    # The same name on another server (its own al-0002-n40, made since): never the old folder.
    theirs = _record(OTHER, "al-0002-n40", str(model_path(OTHER, 3, "al-0002-n40")))
    assert saved_model(theirs) == model_path(OTHER, 3, "al-0002-n40") and not saved_model(theirs).exists()
    assert load_pool_predictions(OTHER, 3, "al-0002-n40") is None
    assert saved_model(_record(OTHER, "al-0002-n40", None)).parent == version_dir(OTHER, 3, "al-0002-n40")

    # Once the version's own folder exists (moved there), it is read from there.
    new = version_dir(LS, 3, "al-0002-n40")
    new.parent.mkdir(parents=True)
    old.rename(new)
    assert saved_model(mine) == new / "model.joblib" and saved_model(mine).is_file()


def test_pool_predictions_round_trip(data_dir):
    pool = PoolPredictions(
        task_ids=np.array([30, 10, 20], dtype=np.int32),
        predicted=("card_lost", "balance", "Überweisung ✓"),
        labeled_ids=np.array([5, 6]),
    )
    path = save_pool_predictions(LS, 3, "al-0001-n20", pool)
    assert path == data_dir / "artifacts" / server_slug(LS) / "project-3" / "al-0001-n20" / "pool.npz"
    loaded = load_pool_predictions(LS, 3, "al-0001-n20")
    assert loaded is not None
    assert loaded.task_ids.dtype == np.int64 and loaded.task_ids.tolist() == [30, 10, 20]
    assert loaded.labeled_ids.tolist() == [5, 6]
    assert loaded.predicted == ("card_lost", "balance", "Überweisung ✓")
    assert loaded.as_dict() == {30: "card_lost", 10: "balance", 20: "Überweisung ✓"}
    assert fingerprint(loaded) == fingerprint(pool)  # same ids (as int64), same labels, same order


def test_an_empty_pool_round_trips_and_a_missing_one_is_none():
    save_pool_predictions(LS, 1, "al-0001-n10", PoolPredictions(np.array([], dtype=int), (), np.array([1, 2])))
    loaded = load_pool_predictions(LS, 1, "al-0001-n10")
    assert loaded is not None and loaded.as_dict() == {} and loaded.labeled_ids.tolist() == [1, 2]
    assert load_pool_predictions(LS, 1, "al-0009-n90") is None
    assert load_pool_predictions(LS, 2, "al-0001-n10") is None
    assert load_pool_predictions(OTHER, 1, "al-0001-n10") is None


def test_prune_keeps_the_current_version_the_last_successful_ones_and_versions_not_ours():
    present = {"al-0001-n10": 90, "al-0002-n20": 80, "al-0003-n30": 70, "al-0004-n40": 60, "other-model": 5}
    gateway = FakeGateway("al-0002-n20", present)  # rolled back to version 2
    history = FakeHistory(["al-0001-n10", "al-0002-n20", "al-0003-n30", "al-0004-n40"])
    assert versions_to_prune(gateway, history, 3, keep=2) == ["al-0001-n10"]
    assert versions_to_prune(gateway, history, 3, keep=1) == ["al-0001-n10", "al-0003-n30"]
    assert versions_to_prune(gateway, history, 3, keep=0) == ["al-0001-n10", "al-0003-n30"]  # keep at least one
    assert versions_to_prune(gateway, history, 3, keep=10) == []


def test_a_version_missing_from_the_history_is_pruned_unless_current():
    gateway = FakeGateway("al-0007-n70", {"al-0005-n50": 1, "al-0006-n60": 1, "al-0007-n70": 1})
    assert versions_to_prune(gateway, FakeHistory([]), 3, keep=3) == ["al-0005-n50", "al-0006-n60"]


def test_rollback_switches_the_queue_and_records_it():
    gateway = FakeGateway("al-0003-n30", {"al-0002-n20": 20, "al-0003-n30": 30})
    history = FakeHistory([])
    rollback(gateway, history, 3, "al-0002-n20", who="ana")
    assert gateway.switched == [(3, "al-0002-n20")]
    assert history.events == [(3, "rollback", {"from": "al-0003-n30", "to": "al-0002-n20", "by": "ana"})]


def test_rollback_to_a_pruned_version_is_refused():
    gateway = FakeGateway("al-0003-n30", {"al-0003-n30": 30})
    message = (
        r"^Model version 'al-0001-n10' has no predictions left in project 3 \(pruned or never uploaded\)\. "
        r"Roll back to one of the kept versions, or run a new iteration\.$"
    )
    with pytest.raises(NotFound, match=message):
        rollback(gateway, FakeHistory([]), 3, "al-0001-n10")
    assert gateway.switched == []
