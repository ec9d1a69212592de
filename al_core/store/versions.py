"""Model versions: where their artifacts live, their pool predictions, rollback and background pruning.

Deleting predictions in Label Studio is slow (~63 ms per prediction), so old versions are pruned after
a successful switch, in the background, one version at a time, recording progress in the history;
a crashed pruner simply resumes (what to delete is derived from Label Studio and the history).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from al_core import settings
from al_core.errors import ALError, NotFound
from al_core.labelstudio.gateway import Gateway
from al_core.store.history import History

VERSION_PREFIX = "al-"
log = logging.getLogger(__name__)


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


def prune_versions(gateway: Gateway, history: History, project_id: int, keep: int = 3) -> list[str]:
    """Delete old versions' predictions one version at a time (slow; run it in the background)."""
    pruned = []
    for version in versions_to_prune(gateway, history, project_id, keep):
        history.set_predictions_state(project_id, version, "pruning")
        history.add_event(project_id, "prune", {"version": version, "state": "started"})
        gateway.delete_model_version(project_id, version)
        history.set_predictions_state(project_id, version, "pruned")
        history.add_event(project_id, "prune", {"version": version, "state": "done"})
        pruned.append(version)
    return pruned


def prune_in_background(gateway: Gateway, history: History, project_id: int, keep: int = 3) -> threading.Thread:
    """Prune in a daemon thread after a successful switch; progress and failures go to the history."""

    def work() -> None:
        try:
            prune_versions(gateway, history, project_id, keep)
        except ALError as err:
            try:
                history.add_event(project_id, "prune", {"state": "failed", "error": str(err)})
            except ALError:
                log.warning("Pruning project %s failed and could not be recorded: %s", project_id, err)

    thread = threading.Thread(target=work, name=f"prune-project-{project_id}", daemon=True)
    thread.start()
    return thread


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
