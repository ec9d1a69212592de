"""Post-run pruning without a server: a failure is recorded, a pruner whose data is gone stops."""

from __future__ import annotations

import shutil

from al_core.__main__ import main
from al_core.errors import ConnectionFailed
from al_core.labelstudio.records import Project
from al_core.pruning import history_present, prune_after_run, prune_versions
from al_core.store.history import History


class DownGateway:
    url = "http://127.0.0.1:9"

    def get_project(self, project_id: int) -> Project:
        raise ConnectionFailed(f"Cannot reach Label Studio at {self.url}.")


class OldVersionsGateway:
    """Serves al-0003; al-0001 and al-0002 still have predictions; records what is deleted."""

    url = "http://127.0.0.1:9"

    def __init__(self) -> None:
        self.deleted: list[str] = []

    def get_project(self, project_id: int) -> Project:
        return Project(project_id, "p", "<View/>", model_version="al-0003-n30")

    def model_versions(self, project_id: int) -> dict[str, int]:
        return {"al-0001-n10": 5, "al-0002-n20": 5, "al-0003-n30": 5, "theirs": 1}

    def delete_model_version(self, project_id: int, version: str) -> None:
        self.deleted.append(version)


def test_a_failed_background_prune_is_recorded(tmp_path) -> None:
    history = History(f"sqlite:///{tmp_path / 'history.sqlite'}", server="http://127.0.0.1:9")
    thread = prune_after_run(DownGateway(), history, 4, keep=1)
    thread.join(10)
    (event,) = history.events(4, "prune")
    assert event.detail == {"state": "failed", "error": "Cannot reach Label Studio at http://127.0.0.1:9."}


def test_prune_deletes_old_versions_and_stops_when_asked(tmp_path) -> None:
    history = History(f"sqlite:///{tmp_path / 'history.sqlite'}", server="http://127.0.0.1:9")
    gateway = OldVersionsGateway()
    assert prune_versions(gateway, history, 4, keep=1, keep_going=lambda: False) == []
    assert gateway.deleted == []
    assert prune_versions(gateway, history, 4, keep=1) == ["al-0001-n10", "al-0002-n20"]
    assert gateway.deleted == ["al-0001-n10", "al-0002-n20"]
    states = [e.detail["state"] for e in reversed(history.events(4, "prune"))]
    assert states == ["started", "done", "started", "done"]


def test_history_present_follows_the_sqlite_folder(tmp_path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    present = history_present(f"sqlite:///{folder / 'history.sqlite'}")
    assert present()
    shutil.rmtree(folder)
    assert not present()
    assert history_present("postgresql://user@host/db")()


def test_the_prune_command_never_recreates_a_deleted_data_folder(tmp_path, monkeypatch, capsys) -> None:
    gone = tmp_path / "deleted"
    monkeypatch.setenv("AL_DATA_DIR", str(gone))
    monkeypatch.delenv("AL_DB_URL", raising=False)
    assert main(["prune", "--project", "1", "--url", "http://127.0.0.1:9", "--api-key", "k"]) == 0
    assert "Nothing pruned: the history database's folder is gone" in capsys.readouterr().out
    assert not gone.exists()
