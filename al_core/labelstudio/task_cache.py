"""A per-project cache of task data under ``.data/cache/``: an iteration downloads only the tasks that
Label Studio says were added or changed since the last sync (``updated_at`` filter), not every task.

Listing cost in Label Studio is per task, not per byte (20,000 tasks: ~15 s), so this is what makes a
repeat iteration cheap. Deletions do not show up in an ``updated_at`` query: when the cached count no
longer matches the project's task count, the cache is rebuilt from a full listing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
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


def _collect(pages: Iterable[list[Task]], into: dict[int, Task], floor: str) -> tuple[int, str]:
    """Put the listed tasks into ``into`` (id and data: the listing's ``meta`` is dropped page by page, so a
    1,000,000-task project is held once, ~0.6 GB, not twice); return how many were listed and the latest
    ``updated_at`` seen (at least ``floor``)."""
    n, latest = 0, floor
    for page in pages:
        for task in page:
            into[task.id] = Task(id=task.id, data=task.data)
            latest = max(latest, str(task.meta.get("updated_at") or ""))
        n += len(page)
    return n, latest


def sync_tasks(
    gateway: Gateway, project_id: int, expected_total: int, *, on_progress: Progress | None = None
) -> tuple[list[Task], SyncStats]:
    """All tasks of the project (id and data), fetching only what changed since the last sync."""
    path = cache_path(gateway.url, project_id)
    cached = _load(path)
    if cached is not None and cached[1]:
        tasks, since = cached
        pages = gateway.task_pages(project_id, updated_after=since, include=_INCLUDE, on_progress=on_progress)
        fetched, latest = _collect(pages, tasks, since)
        if len(tasks) == expected_total:
            _save(path, tasks, latest)
            return list(tasks.values()), SyncStats(False, fetched, len(tasks))
        del tasks, cached  # a deletion: rebuilt from a full listing below
    tasks = {}
    fetched, latest = _collect(gateway.task_pages(project_id, include=_INCLUDE, on_progress=on_progress), tasks, "")
    _save(path, tasks, latest)
    return list(tasks.values()), SyncStats(True, fetched, len(tasks))


def cached_tasks(server_url: str, project_id: int) -> dict[int, Task]:
    """The tasks (id and data) the last iteration on this machine cached for the project; empty when none."""
    cached = _load(cache_path(server_url, project_id))
    return cached[0] if cached is not None else {}
