"""The task cache against a fake gateway: a first sync lists every task, the next ones only what changed
since the latest ``updated_at`` seen, and a count that no longer matches (a deletion) rebuilds the cache."""

from __future__ import annotations

import json

import pytest

from al_core.labelstudio.records import Task
from al_core.labelstudio.task_cache import SyncStats, cache_path, cached_tasks, sync_tasks

URL = "http://ls.test:8080"


class FakeGateway:
    """``task_pages`` as Label Studio answers it: every task, or those updated after a timestamp, in pages of 2."""

    url = URL

    def __init__(self, rows: dict[int, tuple[str, str]]) -> None:
        self.rows = rows  # id -> (text, updated_at)
        self.calls: list[str | None] = []

    def task_pages(self, project_id, *, updated_after=None, include, on_progress=None):
        assert (project_id, include) == (7, "id,data,updated_at")
        self.calls.append(updated_after)
        listed = [
            Task(tid, {"text": text}, meta={"updated_at": stamp})
            for tid, (text, stamp) in sorted(self.rows.items())
            if updated_after is None or stamp > updated_after
        ]
        for start in range(0, len(listed), 2):
            if on_progress:
                on_progress(min(start + 2, len(listed)), len(listed))
            yield listed[start : start + 2]


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path))
    return tmp_path


def texts(tasks: list[Task]) -> dict[int, str]:
    return {t.id: t.data["text"] for t in tasks}


def test_the_cache_file_is_per_server_and_project(data_dir):
    path = cache_path(URL, 7)
    assert path.parent == data_dir / "cache"
    assert path.name.startswith("tasks-") and path.name.endswith("-project-7.json")
    assert cache_path(URL + "/", 7) == path  # a trailing slash is the same server
    assert cache_path("http://other:8080", 7) != path and cache_path(URL, 8) != path


def test_first_sync_lists_everything_then_only_what_changed():
    gateway = FakeGateway({1: ("a", "2026-01-01T10:00:00.000000Z"), 2: ("b", "2026-01-01T11:00:00.000000Z")})
    progress: list[tuple[int, int]] = []
    tasks, stats = sync_tasks(gateway, 7, 2, on_progress=lambda done, total: progress.append((done, total)))
    assert (texts(tasks), stats, gateway.calls, progress) == ({1: "a", 2: "b"}, SyncStats(True, 2, 2), [None], [(2, 2)])
    assert all(t.meta == {} and t.annotations == () for t in tasks)  # data only: annotations are read elsewhere

    gateway.rows[2] = ("b, edited", "2026-01-02T09:00:00.000000Z")
    gateway.rows[3] = ("c", "2026-01-02T09:30:00.000000Z")
    tasks, stats = sync_tasks(gateway, 7, 3)
    assert (texts(tasks), stats) == ({1: "a", 2: "b, edited", 3: "c"}, SyncStats(False, 2, 3))
    assert gateway.calls[-1] == "2026-01-01T11:00:00.000000Z"  # the latest stamp of the first sync

    tasks, stats = sync_tasks(gateway, 7, 3)
    assert (stats, gateway.calls[-1]) == (SyncStats(False, 0, 3), "2026-01-02T09:30:00.000000Z")
    assert texts(tasks) == {1: "a", 2: "b, edited", 3: "c"}


def test_a_deleted_task_rebuilds_the_cache_from_a_full_listing():
    gateway = FakeGateway({1: ("a", "2026-01-01"), 2: ("b", "2026-01-02"), 3: ("c", "2026-01-03")})
    sync_tasks(gateway, 7, 3)
    del gateway.rows[2]
    tasks, stats = sync_tasks(gateway, 7, 2)
    assert (texts(tasks), stats) == ({1: "a", 3: "c"}, SyncStats(True, 2, 2))
    assert gateway.calls == [None, "2026-01-03", None]  # the changes, then the full listing


def test_the_file_holds_ids_texts_and_the_latest_stamp():
    sync_tasks(FakeGateway({5: ("x", "2026-03-01"), 4: ("y", "2026-02-01")}), 7, 2)
    saved = json.loads(cache_path(URL, 7).read_text(encoding="utf-8"))
    assert saved == {"format": 1, "max_updated_at": "2026-03-01", "tasks": {"4": {"text": "y"}, "5": {"text": "x"}}}
    assert not cache_path(URL, 7).with_suffix(".tmp").exists()


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"format": 0, "max_updated_at": "2026", "tasks": {}}),
        json.dumps({"format": 1, "tasks": {}}),
    ],
)
def test_an_unreadable_old_or_stampless_cache_means_a_full_listing(content):
    path = cache_path(URL, 7)
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    gateway = FakeGateway({1: ("a", "2026-01-01")})
    assert sync_tasks(gateway, 7, 1)[1] == SyncStats(True, 1, 1)
    assert gateway.calls == [None]


def test_cached_tasks_are_what_the_last_sync_saved():
    assert cached_tasks(URL, 7) == {}  # nothing synced on this machine yet
    sync_tasks(FakeGateway({1: ("one", "2025-01-01"), 2: ("two", "2025-01-02")}), 7, 2)
    assert texts(list(cached_tasks(URL, 7).values())) == {1: "one", 2: "two"}
    assert cached_tasks(URL, 8) == {}
