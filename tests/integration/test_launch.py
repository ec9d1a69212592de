"""``make run`` (``python -m al_core.launch``) stops everything it started on SIGTERM and on SIGHUP (a closed
terminal), not only on Ctrl-C: Label Studio, the webhook receiver and the dashboard, each checked on its port.

The launcher starts its own Label Studio from a copy of the test server's database (SQLite's backup API, a
consistent copy of a live database): the same real server, without the minute a first start spends migrating.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from al_core.labelstudio.local_server import LocalServer
from tests.conftest import ROOT, copy_label_studio, free_port


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_stops_label_studio_the_receiver_and_the_dashboard(
    label_studio_server: LocalServer, tmp_path: Path, signum: signal.Signals
) -> None:
    data = tmp_path / "data"
    copy_label_studio(label_studio_server, data)
    ports = {"label_studio": free_port(), "webhooks": free_port(), "dashboard": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "AL_"))}
    env.update(
        AL_DATA_DIR=str(data),
        AL_LABEL_STUDIO_PORT=str(ports["label_studio"]),
        AL_WEBHOOK_PORT=str(ports["webhooks"]),
        AL_DASHBOARD_PORT=str(ports["dashboard"]),
    )
    urls = {
        "Label Studio": f"http://127.0.0.1:{ports['label_studio']}/health",
        "the webhook receiver": f"http://127.0.0.1:{ports['webhooks']}/health",
        "the dashboard": f"http://127.0.0.1:{ports['dashboard']}/_stcore/health",
    }
    log = tmp_path / "launch.log"
    with log.open("wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "al_core.launch"], cwd=str(ROOT), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 300
        while not all(_answers(url) for url in urls.values()):
            assert launcher.poll() is None, f"make run exited early:\n{log.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"make run did not come up:\n{log.read_text(errors='replace')}"
            time.sleep(0.5)
        assert "Label Studio started" in log.read_text(), "the launcher must have started its own Label Studio"

        launcher.send_signal(signum)
        assert launcher.wait(timeout=90) == 0
    finally:
        if launcher.poll() is None:
            launcher.kill()
    output = log.read_text(errors="replace")
    assert f"Stopping ({signum.name})" in output and "Label Studio stopped." in output, output
    still_up = [name for name, url in urls.items() if _answers(url)]
    assert still_up == [], f"still answering after {signum.name}: {still_up}\n{output}"
