"""Pruning old versions' predictions after a run: one function for the page, the receiver and the CLI.

Deleting predictions in Label Studio is slow (~63 ms per prediction), so old versions are pruned after
a successful switch, in the background, one version at a time, recording progress in the history; a
crashed pruner simply resumes (what to delete is derived from Label Studio and the history). A failure
is recorded as a ``prune`` event wherever the pruning runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from al_core import settings as app_settings
from al_core.errors import ALError
from al_core.labelstudio.gateway import Gateway
from al_core.store.history import History
from al_core.store.versions import versions_to_prune

log = logging.getLogger(__name__)


def prune_versions(
    gateway: Gateway, history: History, project_id: int, keep: int, *, keep_going: Callable[[], bool] = lambda: True
) -> list[str]:
    """Delete old versions' predictions one version at a time (slow); ``keep_going`` is asked before each.

    Raises:
        ALError: Label Studio or the history failed (the versions pruned so far stay pruned).
    """
    pruned = []
    for version in versions_to_prune(gateway, history, project_id, keep):
        if not keep_going():
            break
        history.set_predictions_state(project_id, version, "pruning")
        history.add_event(project_id, "prune", {"version": version, "state": "started"})
        gateway.delete_model_version(project_id, version)
        history.set_predictions_state(project_id, version, "pruned")
        history.add_event(project_id, "prune", {"version": version, "state": "done"})
        pruned.append(version)
    return pruned


def prune_recorded(
    gateway: Gateway, history: History, project_id: int, keep: int, *, keep_going: Callable[[], bool] = lambda: True
) -> list[str]:
    """``prune_versions``, with a failure recorded as a ``prune`` event before it is raised again."""
    try:
        return prune_versions(gateway, history, project_id, keep, keep_going=keep_going)
    except ALError as err:
        try:
            history.add_event(project_id, "prune", {"state": "failed", "error": str(err)})
        except ALError:
            log.warning("Pruning project %s failed and could not be recorded: %s", project_id, err)
        raise


def prune_after_run(
    gateway: Gateway, history: History, project_id: int, keep: int, *, outlive_process: bool = False
) -> threading.Thread | None:
    """Prune old versions in the background after a successful run, without making the caller wait.

    In a long-lived process (the app, the webhook receiver) a daemon thread prunes and is returned. A
    process that exits right after the run (the CLI) passes ``outlive_process=True``: a detached
    ``python -m al_core prune`` does the same work and records a failure the same way; it stops when the
    history's folder is deleted. It is only started when the process can hand over the connection
    without a secret given on the command line (the key came from the environment or a file).
    """
    if outlive_process:
        _start_prune_process(gateway, project_id, keep)
        return None

    def work() -> None:
        with contextlib.suppress(ALError):  # recorded in the history by prune_recorded: the pruning log shows it
            prune_recorded(gateway, history, project_id, keep)

    thread = threading.Thread(target=work, name=f"prune-project-{project_id}", daemon=True)
    thread.start()
    return thread


def history_present(db_url: str) -> Callable[[], bool]:
    """For a SQLite history: whether its folder still exists (a pruner whose data is gone stops)."""
    if not db_url.startswith("sqlite:///"):
        return lambda: True
    folder = Path(db_url.removeprefix("sqlite:///")).parent
    return folder.is_dir


def _start_prune_process(gateway: Gateway, project_id: int, keep: int) -> None:
    conn = app_settings.default_connection()
    if conn is None or conn.url != gateway.url:  # both normalized (settings.normalize_url)
        return  # the key came from a flag: do not hand it to another process's environment implicitly
    env = {**os.environ, "LABEL_STUDIO_URL": gateway.url, "LABEL_STUDIO_API_KEY": conn.api_key}
    cmd = [sys.executable, "-m", "al_core", "prune", "--project", str(project_id), "--keep", str(keep)]
    subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=str(app_settings.PROJECT_ROOT),
    )
