"""Post-run pruning without a server: a failure is recorded, a pruner whose data is gone stops."""

from __future__ import annotations

import shutil

import pytest

from al_core.__main__ import main
from al_core.errors import ConnectionFailed
from al_core.labelstudio.records import Prediction, Project
from al_core.pruning import Pacing, delete_version_paced, history_present, prune_after_run, prune_versions, until
from al_core.store.history import History


class DownGateway:
    url = "http://127.0.0.1:9"

    def get_project(self, project_id: int) -> Project:
        raise ConnectionFailed(f"Cannot reach Label Studio at {self.url}.")


class OldVersionsGateway:
    """Serves al-0003; al-0001 and al-0002 still have predictions; records what is deleted, request by request."""

    url = "http://127.0.0.1:9"

    def __init__(self, per_version: int = 5) -> None:
        self.current = "al-0003-n30"
        self.predictions = {
            v: [Prediction(100 * i + k, k, v, 0.5, ()) for k in range(per_version)]
            for i, v in enumerate(("al-0001-n10", "al-0002-n20", "al-0003-n30", "theirs"), start=1)
        }
        self.deleted: list[int] = []
        self.version_deletes: list[str] = []

    def get_project(self, project_id: int) -> Project:
        return Project(project_id, "p", "<View/>", model_version=self.current)

    def model_versions(self, project_id: int) -> dict[str, int]:
        return {v: len(ps) for v, ps in self.predictions.items() if ps}

    def list_predictions(self, project_id: int, model_version: str | None = None) -> list[Prediction]:
        return [p for v, ps in self.predictions.items() if model_version in (None, v) for p in ps]

    def delete_prediction(self, prediction_id: int) -> None:
        self.deleted.append(prediction_id)
        for v, ps in self.predictions.items():
            self.predictions[v] = [p for p in ps if p.id != prediction_id]

    def delete_model_version(self, project_id: int, version: str) -> None:
        self.version_deletes.append(version)
        self.predictions[version] = []


def test_a_failed_background_prune_is_recorded(tmp_path) -> None:
    history = History(f"sqlite:///{tmp_path / 'history.sqlite'}", server="http://127.0.0.1:9")
    thread = prune_after_run(DownGateway(), history, 4, keep=1)
    thread.join()  # no time bound: the failure is recorded before the thread ends, however slow the machine
    (event,) = history.events(4, "prune")
    assert event.detail == {"state": "failed", "error": "Cannot reach Label Studio at http://127.0.0.1:9."}


def test_prune_deletes_old_versions_and_stops_when_asked(tmp_path) -> None:
    history = History(f"sqlite:///{tmp_path / 'history.sqlite'}", server="http://127.0.0.1:9")
    gateway = OldVersionsGateway()
    assert prune_versions(gateway, history, 4, keep=1, keep_going=lambda: False) == []
    assert gateway.deleted == []
    assert prune_versions(gateway, history, 4, keep=1, sleep=lambda s: None) == ["al-0001-n10", "al-0002-n20"]
    assert gateway.deleted == [100, 101, 102, 103, 104, 200, 201, 202, 203, 204]
    assert set(gateway.model_versions(4)) == {"al-0003-n30", "theirs"}  # the current one and another model's
    states = [e.detail["state"] for e in reversed(history.events(4, "prune"))]
    assert states == ["started", "done", "started", "done"]


def test_a_version_is_deleted_in_batches_with_a_pause_between_them() -> None:
    gateway, sleeps = OldVersionsGateway(per_version=25), []
    done = delete_version_paced(gateway, 4, "al-0001-n10", Pacing(batch=10, pause=0.5), sleep=sleeps.append)
    assert done and gateway.deleted == list(range(100, 125)) and gateway.version_deletes == []
    assert sleeps == [0.5, 0.5]  # 3 batches of at most 10: a pause between two batches, none after the last


def test_a_pruner_asked_to_stop_stops_between_batches_and_the_version_stays_pruning(tmp_path) -> None:
    history = History(f"sqlite:///{tmp_path / 'history.sqlite'}", server="http://127.0.0.1:9")
    gateway, asked = OldVersionsGateway(per_version=25), []

    def keep_going() -> bool:
        asked.append(1)
        return len(asked) <= 3  # the version check, then two batches

    assert prune_versions(gateway, history, 4, keep=1, keep_going=keep_going, pacing=Pacing(10, 0), sleep=None) == []
    assert gateway.deleted == list(range(100, 120))  # 2 batches of 10; the other 5 are left for the next prune
    assert [e.detail["state"] for e in history.events(4, "prune")] == ["started"]


def test_a_version_rolled_back_to_while_it_is_pruned_is_left_alone(tmp_path) -> None:
    history = History(f"sqlite:///{tmp_path / 'history.sqlite'}", server="http://127.0.0.1:9")
    gateway = OldVersionsGateway(per_version=25)

    def rollback_after_one_batch(seconds: float) -> None:
        gateway.current = "al-0001-n10"

    assert prune_versions(gateway, history, 4, keep=1, pacing=Pacing(10, 1), sleep=rollback_after_one_batch) == []
    assert len(gateway.deleted) == 10 and gateway.model_versions(4)["al-0001-n10"] == 15
    assert history.events(4, "prune")[0].detail == {"version": "al-0001-n10", "state": "stopped", "reason": "current"}


def test_the_old_way_is_one_version_delete() -> None:
    gateway = OldVersionsGateway()
    assert delete_version_paced(gateway, 4, "al-0002-n20", Pacing(batch=0, pause=0))
    assert gateway.version_deletes == ["al-0002-n20"] and gateway.deleted == []


def test_pacing_is_checked() -> None:
    with pytest.raises(ValueError, match="Pacing needs batch >= 0 and pause >= 0. Got batch=-1, pause=1.0."):
        Pacing(batch=-1)


def test_until_bounds_a_lifetime() -> None:
    now = [0.0]
    keep_going = until(10.0, lambda: True, clock=lambda: now[0])
    assert keep_going()
    now[0] = 10.0
    assert not keep_going()
    assert not until(10.0, lambda: False, clock=lambda: 0.0)()


def test_history_present_follows_the_sqlite_file_and_its_folder(tmp_path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "history.sqlite"
    present = history_present(f"sqlite:///{db}")
    assert not present()  # no database yet: a pruner would have to create it
    History(f"sqlite:///{db}", server="http://127.0.0.1:9")
    assert present()
    db.unlink()
    assert not present()
    History(f"sqlite:///{db}", server="http://127.0.0.1:9")
    shutil.rmtree(folder)
    assert not present()
    assert history_present("postgresql://user@host/db")()


def test_the_prune_command_never_recreates_a_deleted_data_folder(tmp_path, monkeypatch, capsys) -> None:
    gone = tmp_path / "deleted"
    monkeypatch.setenv("AL_DATA_DIR", str(gone))
    monkeypatch.delenv("AL_DB_URL", raising=False)
    assert main(["prune", "--project", "1", "--url", "http://127.0.0.1:9", "--api-key", "k"]) == 0
    assert "Nothing pruned: there is no history database at" in capsys.readouterr().out
    assert not gone.exists()


def test_the_prune_command_never_recreates_a_deleted_history_database(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AL_DB_URL", raising=False)
    args = ["prune", "--project", "1", "--url", "http://127.0.0.1:9", "--api-key", "k", "--detached"]
    assert main(args) == 0
    assert "(deleted, or no iteration ran here)" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
