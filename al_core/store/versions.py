"""Model versions: where their artifacts live, their pool predictions, which ones to prune, and rollback.

The pruning itself (slow, in the background after a run) is ``al_core.pruning``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from al_core import settings
from al_core.errors import NotFound
from al_core.labelstudio.gateway import Gateway
from al_core.store.history import History

VERSION_PREFIX = "al-"


def version_dir(project_id: int, version: str) -> Path:
    return settings.artifacts_dir() / f"project-{project_id}" / version


def model_path(project_id: int, version: str) -> Path:
    return version_dir(project_id, version) / "model.joblib"


@dataclass(frozen=True)
class PoolPredictions:
    """A version's predicted label for every task of the pool it scored, and the labels it knew."""

    task_ids: np.ndarray
    predicted: tuple[str, ...]
    labeled_ids: np.ndarray

    def as_dict(self) -> dict[int, str]:
        return dict(zip(self.task_ids.tolist(), self.predicted, strict=True))


def save_pool_predictions(project_id: int, version: str, pool: PoolPredictions) -> Path:
    path = version_dir(project_id, version) / "pool.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(
            fh,
            task_ids=pool.task_ids.astype(np.int64),
            predicted=np.array(pool.predicted, dtype=str),
            labeled_ids=pool.labeled_ids.astype(np.int64),
        )
    return path


def load_pool_predictions(project_id: int, version: str) -> PoolPredictions | None:
    path = version_dir(project_id, version) / "pool.npz"
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return PoolPredictions(data["task_ids"], tuple(data["predicted"].tolist()), data["labeled_ids"])


def versions_to_prune(gateway: Gateway, history: History, project_id: int, keep: int) -> list[str]:
    """Our versions in Label Studio that are neither current nor among the last ``keep`` successful ones."""
    current = gateway.get_project(project_id).model_version
    kept = {it.model_version for it in history.succeeded(project_id)[-max(keep, 1) :]}
    present = gateway.model_versions(project_id)
    return sorted(v for v in present if v.startswith(VERSION_PREFIX) and v != current and v not in kept)


def rollback(gateway: Gateway, history: History, project_id: int, version: str, *, who: str = "") -> None:
    """Switch Label Studio's queue back to a kept version; the history records it."""
    if version not in gateway.model_versions(project_id):
        raise NotFound(
            f"Model version {version!r} has no predictions left in project {project_id} (pruned or never uploaded). "
            "Roll back to one of the kept versions, or run a new iteration."
        )
    previous = gateway.get_project(project_id).model_version
    gateway.set_model_version(project_id, version)
    history.add_event(project_id, "rollback", {"from": previous, "to": version, "by": who})
