"""Pruning old versions' predictions after a run: one function for the page, the receiver and the CLI.

Deleting predictions in Label Studio is slow (~63-77 ms per prediction, whatever the endpoint), and its
version delete (``DELETE /api/projects/ID/model-versions/``) does it in ONE transaction: on SQLite that holds
the write lock for minutes, and annotators' ``/next`` and annotation calls fail with "database is locked".
So a version is pruned a prediction at a time (each request its own short transaction) in small batches
with a pause between them (``Pacing``; chosen with ``python -m bench.prune_annotators``, see bench/README.md),
in the background, one version at a time, recording progress in the history. A stopped or crashed pruner
simply resumes (what to delete is derived from Label Studio and the history). A failure is recorded as a
``prune`` event wherever the pruning runs. A pruner stops when the history it writes to is gone, and a
detached one also when its lifetime runs out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from al_core import settings as app_settings
from al_core.errors import ALError
from al_core.labelstudio.gateway import Gateway
from al_core.store.history import History
from al_core.store.versions import versions_to_prune

log = logging.getLogger(__name__)
KeepGoing = Callable[[], bool]
# A detached pruner's bound, not an estimate: measured at 0.4-1.8 s per prediction (bench/README.md), 20,000 take
# 2-10 h; what is left when it stops is pruned after the next run.
DETACHED_LIFETIME_S = 4 * 3600


@dataclass(frozen=True)
class Pacing:
    """How a pruner shares Label Studio with the people labeling.

    ``batch`` predictions are deleted (one request, hence one short write transaction, each), then the pruner
    sleeps ``pause`` seconds so that annotators' requests are served between batches. ``batch=0`` means the old
    way, Label Studio's version delete in one request (one long transaction): kept for the benchmark only.
    """

    batch: int = 10
    pause: float = 1.0

    def __post_init__(self) -> None:
        if self.batch < 0 or self.pause < 0:
            raise ValueError(f"Pacing needs batch >= 0 and pause >= 0. Got batch={self.batch}, pause={self.pause}.")


DEFAULT_PACING = Pacing()


def delete_version_paced(
    gateway: Gateway,
    project_id: int,
    version: str,
    pacing: Pacing = DEFAULT_PACING,
    *,
    keep_going: KeepGoing = lambda: True,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Delete every prediction of ``version``, ``pacing.batch`` at a time with ``pacing.pause`` s between batches.

    Before each batch it asks ``keep_going`` and checks that the version is still not the project's current one
    (a rollback to it while it is pruned stops the pruning of it). Returns True when none is left, False when it
    stopped early (what is left is deleted by a later prune). Raises LabelStudioError from the gateway.
    """
    if pacing.batch == 0:
        gateway.delete_model_version(project_id, version)
        return True
    ids = [p.id for p in gateway.list_predictions(project_id, version)]
    for start in range(0, len(ids), pacing.batch):
        if start and pacing.pause:
            sleep(pacing.pause)
        if not keep_going() or gateway.get_project(project_id).model_version == version:
            return False
        for prediction_id in ids[start : start + pacing.batch]:
            gateway.delete_prediction(prediction_id)
    return True


def prune_versions(
    gateway: Gateway,
    history: History,
    project_id: int,
    keep: int,
    *,
    keep_going: KeepGoing = lambda: True,
    pacing: Pacing = DEFAULT_PACING,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Delete old versions' predictions one version at a time (slow, paced); ``keep_going`` is asked before each
    batch and before each write to the history, so a pruner whose history is gone writes nothing more.

    Returns the versions pruned in full. Raises:
        ALError: Label Studio or the history failed (the predictions deleted so far stay deleted).
    """
    pruned = []
    for version in versions_to_prune(gateway, history, project_id, keep):
        if not keep_going():
            break
        history.set_predictions_state(project_id, version, "pruning")
        history.add_event(project_id, "prune", {"version": version, "state": "started"})
        if not delete_version_paced(gateway, project_id, version, pacing, keep_going=keep_going, sleep=sleep):
            if keep_going():  # stopped because the version became current again (a rollback): say so
                history.add_event(project_id, "prune", {"version": version, "state": "stopped", "reason": "current"})
            break
        if not keep_going():
            break
        history.set_predictions_state(project_id, version, "pruned")
        history.add_event(project_id, "prune", {"version": version, "state": "done"})
        pruned.append(version)
    return pruned


def prune_recorded(
    gateway: Gateway,
    history: History,
    project_id: int,
    keep: int,
    *,
    keep_going: KeepGoing = lambda: True,
    pacing: Pacing = DEFAULT_PACING,
) -> list[str]:
    """``prune_versions``, with a failure recorded as a ``prune`` event (while the history exists) before it is
    raised again."""
    try:
        return prune_versions(gateway, history, project_id, keep, keep_going=keep_going, pacing=pacing)
    except ALError as err:
        try:
            if keep_going():
                history.add_event(project_id, "prune", {"state": "failed", "error": str(err)})
        except ALError:
            log.warning("Pruning project %s failed and could not be recorded: %s", project_id, err)
        raise


def prune_after_run(
    gateway: Gateway, history: History, project_id: int, keep: int, *, outlive_process: bool = False
) -> threading.Thread | None:
    """Prune old versions in the background after a successful run, without making the caller wait.

    In a long-lived process (the app, the webhook receiver) a daemon thread prunes and is returned; it dies
    with its process and stops when the history's database is deleted. A process that exits right after the
    run (the CLI) passes ``outlive_process=True``: a detached ``python -m al_core prune --detached`` does the
    same work and records a failure the same way; it stops when the history's database or folder is deleted
    and after at most ``DETACHED_LIFETIME_S`` seconds. It is only started when the process can hand over the
    connection without a secret given on the command line (the key came from the environment or a file).
    """
    if outlive_process:
        _start_prune_process(gateway, project_id, keep)
        return None
    present = history_present(history.url)

    def work() -> None:
        with contextlib.suppress(ALError):  # recorded in the history by prune_recorded: the pruning log shows it
            prune_recorded(gateway, history, project_id, keep, keep_going=present)

    thread = threading.Thread(target=work, name=f"prune-project-{project_id}", daemon=True)
    thread.start()
    return thread


def history_present(db_url: str) -> KeepGoing:
    """For a SQLite history: whether its database file still exists (a pruner whose data is gone stops, and never
    re-creates it). Other databases: always True."""
    if not db_url.startswith("sqlite:///"):
        return lambda: True
    path = Path(db_url.removeprefix("sqlite:///"))
    return path.is_file


def until(deadline: float, keep_going: KeepGoing, clock: Callable[[], float] = time.monotonic) -> KeepGoing:
    """``keep_going`` that also turns False once ``clock()`` passes ``deadline`` (a bounded lifetime)."""
    return lambda: clock() < deadline and keep_going()


def _start_prune_process(gateway: Gateway, project_id: int, keep: int) -> None:
    conn = app_settings.default_connection()
    if conn is None or conn.url != gateway.url:  # both normalized (settings.normalize_url)
        return  # the key came from a flag: do not hand it to another process's environment implicitly
    env = {**os.environ, "LABEL_STUDIO_URL": gateway.url, "LABEL_STUDIO_API_KEY": conn.api_key}
    cmd = [sys.executable, "-m", "al_core", "prune", "--project", str(project_id), "--keep", str(keep), "--detached"]
    subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=str(app_settings.PROJECT_ROOT),
    )
