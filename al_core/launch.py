"""`make run`: the dashboard on 127.0.0.1:8501, with a local Label Studio unless one is configured.

Starts (or reuses) Label Studio on 127.0.0.1:8080 with data under ``.data/``, the webhook receiver on
127.0.0.1:8765, then ``streamlit run app.py`` (``AL_LABEL_STUDIO_PORT``, ``AL_WEBHOOK_PORT`` and
``AL_DASHBOARD_PORT`` change the ports). Ctrl-C, SIGTERM or a closed terminal (SIGHUP) stops what this
process started, and only that.

The dashboard runs without Streamlit's file watcher: it would watch the project folder, virtual environments and
``.data/`` included, and flood the terminal with "Inotify queue overflowed" (run ``streamlit run app.py`` yourself
to get reload-on-save while developing).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from al_core import settings
from al_core.errors import ALError
from al_core.labelstudio.local_server import LocalServer, start_local_server


def _say(msg: str) -> None:
    print(f"[al] {msg}", flush=True)


def _label_studio() -> tuple[LocalServer | None, dict[str, str]]:
    url, key = os.environ.get("LABEL_STUDIO_URL"), os.environ.get("LABEL_STUDIO_API_KEY")
    if url:
        if not key:
            raise ALError("LABEL_STUDIO_URL is set but LABEL_STUDIO_API_KEY is not: set both, or unset the URL.")
        _say(f"Using the Label Studio at {url} (key {settings.mask(key)}).")
        return None, {}
    data = settings.data_dir()
    data.mkdir(parents=True, exist_ok=True)
    ls_port = settings.port("label_studio")
    _say(f"Starting Label Studio on 127.0.0.1:{ls_port} (data in {data}; the first start takes ~1 min) ...")
    server = start_local_server(data, port=ls_port)
    state = "started" if server.started_here else "already running; reusing it"
    conn = server.connection
    _say(f"Label Studio {state}: {conn.url} (user admin@localhost.local, key {settings.mask(conn.api_key)}).")
    _say(f"The password and full key are in {settings.local_credentials_path()} (git-ignored).")
    return server, {"AL_LOCAL_SERVER": "1"}


class _Stop(Exception):
    """SIGTERM or SIGHUP arrived: stop like Ctrl-C does."""


def _stop_on_signal(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def main() -> int:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    server: LocalServer | None = None
    try:
        ports = [settings.port(name) for name in ("label_studio", "webhooks", "dashboard")]
        if len(set(ports)) < len(ports):
            raise ALError(f"The ports of Label Studio, the webhook receiver and the dashboard must differ: {ports}.")
        server, extra_env = _label_studio()
    except ALError as err:
        _say(f"error: {err}")
        return 1
    except (_Stop, KeyboardInterrupt):
        return 0
    return _serve(server, extra_env)


def _serve(server: LocalServer | None, extra_env: dict[str, str]) -> int:
    env = {**os.environ, **extra_env}
    children: list[subprocess.Popen] = []
    try:
        receiver = _start_receiver(env)
        if receiver:
            children.append(receiver)
        cmd = [sys.executable, "-m", "ui.serve", "run", "app.py", "--server.address", "127.0.0.1"]
        dashboard = settings.port("dashboard")
        cmd += ["--server.port", str(dashboard), "--server.headless", "true", "--server.fileWatcherType", "none"]
        _say(f"Dashboard: http://127.0.0.1:{dashboard}  (Ctrl-C stops everything started here)")
        app = subprocess.Popen(cmd, env=env, cwd=str(settings.PROJECT_ROOT))
        children.append(app)
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        return next((c.returncode for c in children if c.returncode), 0)
    except (KeyboardInterrupt, _Stop) as why:
        _say(f"Stopping ({why or 'Ctrl-C'}) ...")
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not cut the clean-up short
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if server is not None and server.started_here:
            server.stop()
            _say("Label Studio stopped.")


def _start_receiver(env: dict[str, str]) -> subprocess.Popen | None:
    """The webhook receiver, when this install has it (see `python -m al_core serve-webhooks`)."""
    try:
        import al_core.automation.receiver  # noqa: F401
    except ImportError:
        return None
    cmd = [
        sys.executable,
        "-m",
        "al_core",
        "serve-webhooks",
        "--host",
        "127.0.0.1",
        "--port",
        str(settings.port("webhooks")),
    ]
    _say(f"Webhook receiver: http://127.0.0.1:{settings.port('webhooks')}/webhook")
    return subprocess.Popen(cmd, env=env, cwd=str(settings.PROJECT_ROOT))


if __name__ == "__main__":
    sys.exit(main())
