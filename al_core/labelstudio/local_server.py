"""Start (or reuse) a local Label Studio server: used by ``make run``, the tests and the benchmarks.

The server lives in its own virtual environment (``.venv-labelstudio``: its many pins must not
constrain the app's), binds to 127.0.0.1 only, keeps its data under the given data dir, and is
bootstrapped non-interactively with an admin user and a generated legacy API token that is stored
in ``<data dir>/labelstudio/credentials.json`` (mode 0600, git-ignored, never printed in full).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from al_core.errors import ALError, LabelStudioError
from al_core.labelstudio import gateway
from al_core.labelstudio.gateway_payloads import FAST_IMPORT_FLAG
from al_core.settings import PROJECT_ROOT, Connection, local_credentials_path

DEFAULT_BIN = PROJECT_ROOT / ".venv-labelstudio" / "bin" / "label-studio"
ADMIN_EMAIL = "admin@localhost.local"


class ServerStartFailed(ALError, RuntimeError):
    """The local Label Studio did not come up; the message carries the end of its log."""


@dataclass
class LocalServer:
    connection: Connection
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def started_here(self) -> bool:
        return self.process is not None

    def stop(self, timeout: float = 20) -> None:
        """Stop the server if this process started it (the whole process group)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)
        except ProcessLookupError:
            pass


def load_or_create_credentials(data_dir: Path, port: int) -> tuple[Connection, str]:
    """The local server's connection and admin password; generated once, then reused."""
    path = local_credentials_path(data_dir)
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("url") != f"http://127.0.0.1:{port}":
            data["url"] = f"http://127.0.0.1:{port}"
            _write_private(path, data)
        return Connection(data["url"], data["api_key"], "local server"), data["password"]
    data = {
        "url": f"http://127.0.0.1:{port}",
        "api_key": secrets.token_hex(20),  # a legacy token: 40 hex characters
        "email": ADMIN_EMAIL,
        "password": secrets.token_urlsafe(16),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, data)
    return Connection(data["url"], data["api_key"], "local server"), data["password"]


def _write_private(path: Path, data: dict) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)


def _server_env(
    conn: Connection, password: str, data_dir: Path, allow_loopback_webhooks: bool, extra_env: Mapping[str, str]
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "AL_"))}
    env.update(
        LABEL_STUDIO_USERNAME=ADMIN_EMAIL,
        LABEL_STUDIO_PASSWORD=password,
        LABEL_STUDIO_USER_TOKEN=conn.api_key,
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        LABEL_STUDIO_BASE_DATA_DIR=str(data_dir / "labelstudio"),
        # Webhooks to our receiver on 127.0.0.1 are refused by Label Studio's SSRF guard unless it is
        # off. This server only listens on loopback, so turning the guard off exposes nothing.
        SSRF_PROTECTION_ENABLED="false" if allow_loopback_webhooks else "true",
        DJANGO_DEBUG="false",
    )
    # Label Studio's own memory-efficient prediction import (off by default in 1.23): it updates the
    # counters of the tasks that got predictions instead of every task of the project on each request.
    # Measured on a 20,000-task project: 1,300 predictions in 2.9 s instead of 8.6 s.
    env[FAST_IMPORT_FLAG] = "true"
    env.update(extra_env)
    return env


def start_local_server(
    data_dir: Path,
    *,
    port: int = 8080,
    ls_bin: Path | None = None,
    timeout: float = 480,
    allow_loopback_webhooks: bool = True,
    extra_env: Mapping[str, str] | None = None,
    wait: bool = True,
) -> LocalServer:
    """Start Label Studio on 127.0.0.1:port with data under ``data_dir/labelstudio``, or reuse a running one.

    ``extra_env`` sets more of Label Studio's settings for a server started here (a test server with
    ``TASK_API_PAGE_SIZE_MAX=100``, say); it wins over the defaults above. ``wait=False`` returns as soon as
    the process runs: call ``wait_until_ready`` before using it (the tests start it while others run).

    Raises:
        ServerStartFailed: the binary is missing, the port is taken by a server our key does not open,
            or the server did not become healthy in ``timeout`` seconds (with the end of its log).
    """
    conn, password = load_or_create_credentials(data_dir, port)
    log_path = data_dir / "labelstudio" / "server.log"
    if gateway.server_health(conn.url):
        try:
            gateway.Gateway(conn.url, conn.api_key).whoami()
        except LabelStudioError as err:
            raise ServerStartFailed(
                f"Port {port} already serves a Label Studio that refuses our stored key ({err}). Stop it, or set "
                "LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY to use it."
            ) from err
        return LocalServer(conn, log_path)
    binary = Path(ls_bin or os.environ.get("AL_LABEL_STUDIO_BIN") or DEFAULT_BIN)
    if not binary.is_file():
        raise ServerStartFailed(f"Label Studio is not installed at {binary}. Run `make labelstudio` (or `make run`).")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    args = [str(binary), "start", "--no-browser", "--internal-host", "127.0.0.1", "-p", str(port)]
    args += ["--data-dir", str(data_dir / "labelstudio")]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            args,
            env=_server_env(conn, password, data_dir, allow_loopback_webhooks, extra_env or {}),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=str(data_dir),
            start_new_session=True,  # its own process group: stop() ends its workers too
        )
    server = LocalServer(conn, log_path, proc)
    if wait:
        wait_until_ready(server, timeout)
    return server


def wait_until_ready(server: LocalServer, timeout: float = 480) -> None:
    """Wait until the server answers with our key; when it does not, stop it (if started here) and raise
    ServerStartFailed with the end of its log."""
    try:
        _wait_until_ready(server, timeout)
    except BaseException:  # not ready, Ctrl-C or SIGTERM while waiting: never leave a half-started server behind
        server.stop()
        raise


def _wait_until_ready(server: LocalServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    conn = server.connection
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise ServerStartFailed(
                f"Label Studio exited with code {server.process.returncode}.\n{_tail(server.log_path)}"
            )
        if gateway.server_health(conn.url):
            try:
                gateway.Gateway(conn.url, conn.api_key).whoami()
                return
            except LabelStudioError:
                pass  # health is up before the bootstrap user exists
        time.sleep(1)
    raise ServerStartFailed(f"Label Studio did not become ready within {timeout:.0f} s.\n{_tail(server.log_path)}")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    return "--- end of the Label Studio log ---\n" + "\n".join(text[-lines:])
