"""Model versions: where their artifacts live, their pool predictions, which ones to prune, and rollback.

A version's artifacts (its model and its pool predictions) belong to one project of one Label Studio server:
``artifacts/<server slug>/project-ID/VERSION/`` (``settings.server_slug``; project ids collide across servers).
A version made before that layout has its folder at ``artifacts/project-ID/VERSION/``, and its record (written
before the history stored servers, its ``artifact_path`` in that folder) belongs to the server its history was
attached to: that folder is read for that record and for no other server's. The pruning itself (slow, in the
background after a run) is ``al_core.pruning``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from al_core import settings
from al_core.errors import NotFound
from al_core.labelstudio.gateway import Gateway
from al_core.store.history import History
from al_core.store.records import IterationRecord

VERSION_PREFIX = "al-"
MODEL_FILE, POOL_FILE = "model.joblib", "pool.npz"


def version_dir(server: str, project_id: int, version: str) -> Path:
    """Where a version of ``server``'s project keeps its artifacts (where a new version writes them)."""
    return settings.artifacts_dir() / settings.server_slug(server) / f"project-{project_id}" / version


def model_path(server: str, project_id: int, version: str) -> Path:
    """Where a new version's model is saved."""
    return version_dir(server, project_id, version) / MODEL_FILE


def legacy_dir(project_id: int, version: str) -> Path:
    """Where a version made before artifacts were kept per server has them."""
    return settings.artifacts_dir() / f"project-{project_id}" / version


def saved_dir(server: str, project_id: int, version: str, artifact_path: str | None = None) -> Path:
    """Where a recorded version's artifacts are read: its server's folder; for a version recorded before
    artifacts were kept per server (``artifact_path``, its record's, lies in ``artifacts/project-ID/VERSION/``)
    and not moved since, that folder, found in this machine's data dir (``legacy_dir``)."""
    here = version_dir(server, project_id, version)
    if here.is_dir() or not artifact_path:
        return here
    recorded = Path(artifact_path).parent
    before_servers = (recorded.name, recorded.parent.name, recorded.parent.parent.name) == (
        version,
        f"project-{project_id}",
        settings.artifacts_dir().name,
    )
    return legacy_dir(project_id, version) if before_servers else here


def saved_model(record: IterationRecord) -> Path:
    """The model file of a recorded version (it may be missing: a cold start, or another machine's run)."""
    return saved_dir(record.server, record.project_id, record.model_version, record.artifact_path) / MODEL_FILE


@dataclass(frozen=True)
class PoolPredictions:
    """A version's predicted label for every task of the pool it scored, and the labels it knew."""

    task_ids: np.ndarray
    predicted: tuple[str, ...]
    labeled_ids: np.ndarray

    def as_dict(self) -> dict[int, str]:
        return dict(zip(self.task_ids.tolist(), self.predicted, strict=True))


def save_pool_predictions(server: str, project_id: int, version: str, pool: PoolPredictions) -> Path:
    path = version_dir(server, project_id, version) / POOL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(
            fh,
            task_ids=pool.task_ids.astype(np.int64),
            predicted=np.array(pool.predicted, dtype=str),
            labeled_ids=pool.labeled_ids.astype(np.int64),
        )
    return path


def load_pool_predictions(
    server: str, project_id: int, version: str, artifact_path: str | None = None
) -> PoolPredictions | None:
    """A version's pool predictions (``artifact_path``: its record's, finds a version made before artifacts
    were kept per server: ``saved_dir``); None when it kept none (a cold start) or they are gone."""
    path = saved_dir(server, project_id, version, artifact_path) / POOL_FILE
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return PoolPredictions(data["task_ids"], tuple(data["predicted"].tolist()), data["labeled_ids"])


def versions_to_prune(gateway: Gateway, history: History, project_id: int, keep: int) -> list[str]:
    """Our versions in Label Studio that are neither current nor among the last ``keep`` successful ones."""
    history.check_server(gateway.url)
    current = gateway.get_project(project_id).model_version
    kept = {it.model_version for it in history.succeeded(project_id)[-max(keep, 1) :]}
    present = gateway.model_versions(project_id)
    return sorted(v for v in present if v.startswith(VERSION_PREFIX) and v != current and v not in kept)


def rollback(gateway: Gateway, history: History, project_id: int, version: str, *, who: str = "") -> None:
    """Switch Label Studio's queue back to a kept version; the history records it."""
    history.check_server(gateway.url)
    if version not in gateway.model_versions(project_id):
        raise NotFound(
            f"Model version {version!r} has no predictions left in project {project_id} (pruned or never uploaded). "
            "Roll back to one of the kept versions, or run a new iteration."
        )
    previous = gateway.get_project(project_id).model_version
    gateway.set_model_version(project_id, version)
    history.add_event(project_id, "rollback", {"from": previous, "to": version, "by": who})
