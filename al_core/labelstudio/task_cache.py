"""A per-project cache of task data under ``.data/cache/``: an iteration downloads only the tasks that
Label Studio says were added or changed since the last sync (``updated_at`` filter), not every task.

Listing cost in Label Studio is per task, not per byte (20,000 tasks: ~15 s), so this is what makes a
repeat iteration cheap. Deletions do not show up in an ``updated_at`` query: when the cached count no
longer matches the project's task count, the cache is rebuilt from a full listing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from al_core import settings
from al_core.labelstudio.gateway import Gateway, Progress
from al_core.labelstudio.records import Task

_INCLUDE = "id,data,updated_at"
_FORMAT = 1


@dataclass(frozen=True)
class SyncStats:
    full: bool  # True: every task was listed; False: only the changed ones
    fetched: int
    total: int


def cache_path(server_url: str, project_id: int) -> Path:
    return settings.cache_dir() / f"tasks-{settings.server_slug(server_url)}-project-{project_id}.json"


def _load(path: Path) -> tuple[dict[int, Task], str] | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if raw.get("format") != _FORMAT:
        return None
    tasks = {int(tid): Task(id=int(tid), data=data) for tid, data in raw["tasks"].items()}
    return tasks, str(raw.get("max_updated_at") or "")


def _save(path: Path, tasks: dict[int, Task], max_updated_at: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    payload = {"format": _FORMAT, "max_updated_at": max_updated_at, "tasks": {t.id: t.data for t in tasks.values()}}
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, path)  # atomic: a crash never leaves a half-written cache


def _latest(tasks: list[Task], floor: str) -> str:
    stamps = [str(t.meta.get("updated_at") or "") for t in tasks]
    return max([floor, *stamps])


def sync_tasks(
    gateway: Gateway, project_id: int, expected_total: int, *, on_progress: Progress | None = None
) -> tuple[list[Task], SyncStats]:
    """All tasks of the project (id and data), fetching only what changed since the last sync."""
    path = cache_path(gateway.url, project_id)
    cached = _load(path)
    if cached is not None and cached[1]:
        tasks, since = cached
        changed = gateway.list_tasks(project_id, updated_after=since, include=_INCLUDE, on_progress=on_progress)
        for task in changed:
            tasks[task.id] = Task(id=task.id, data=task.data)
        if len(tasks) == expected_total:
            _save(path, tasks, _latest(changed, since))
            return list(tasks.values()), SyncStats(False, len(changed), len(tasks))
    listed = gateway.list_tasks(project_id, include=_INCLUDE, on_progress=on_progress)
    tasks = {t.id: Task(id=t.id, data=t.data) for t in listed}
    _save(path, tasks, _latest(listed, ""))
    return list(tasks.values()), SyncStats(True, len(listed), len(tasks))


def cached_tasks(server_url: str, project_id: int) -> dict[int, Task]:
    """The tasks (id and data) the last iteration on this machine cached for the project; empty when none."""
    cached = _load(cache_path(server_url, project_id))
    return cached[0] if cached is not None else {}
