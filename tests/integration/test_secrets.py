"""Secrets never leak: the API key and the webhook secret appear in no log, history row, artifact, URL,
CLI output or error message; secrets files are git-ignored; the local Label Studio binds to 127.0.0.1."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from al_core.automation import registration as automation
from al_core.errors import ALError
from al_core.lab.sample import GoldAnnotator, sample_gold
from al_core.labelstudio.gateway import Gateway
from al_core.settings import PROJECT_ROOT, data_dir
from tests.conftest import create_small_sample_project

WEBHOOK_SECRET = "wh-secret-do-not-leak-91c2"


SQLITE_FILES = (".sqlite", ".sqlite-wal", ".sqlite-shm", ".sqlite-journal")


def _grep(root: Path, needle: str) -> list[str]:
    """The files under ``root`` holding ``needle``. SQLite databases are read through SQLite (their dump: the WAL
    included), never as bytes: opening and closing a live database file outside SQLite drops this process's
    POSIX locks on it, and another process then deletes the WAL the open connections here still write to."""
    hits = []
    for path in root.rglob("*"):
        if not path.is_file() or path.name == "credentials.json":  # the one place the local key is meant to be
            continue
        try:
            if path.name.endswith(SQLITE_FILES):
                if path.suffix == ".sqlite" and needle in _dump(path):
                    hits.append(str(path))
            elif needle.encode() in path.read_bytes():
                hits.append(str(path))
        except (OSError, sqlite3.Error):
            continue
    return hits


def _dump(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def test_secrets_appear_nowhere(label_studio, label_studio_server, gateway: Gateway) -> None:
    key = label_studio.api_key
    project = create_small_sample_project(gateway, "secrets")
    GoldAnnotator(gateway, project.id, sample_gold().get).label(20)
    hook = automation.register(gateway, project.id, "http://127.0.0.1:8765/webhook", WEBHOOK_SECRET)
    assert WEBHOOK_SECRET not in hook.url and key not in hook.url

    env = {**os.environ, "LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": key}
    outputs = []
    for args in (
        ["iterate", "--project", str(project.id), "--upload-top", "50", "--json", "--no-prune"],
        ["status", "--project", str(project.id), "--json"],
        ["iterate", "--project", "999999"],
        ["iterate", "--project", str(project.id), "--url", label_studio.url, "--api-key", key + "x"],
    ):
        done = subprocess.run([sys.executable, "-m", "al_core", *args], capture_output=True, text=True, env=env,
                              cwd=str(PROJECT_ROOT), timeout=300)  # fmt: skip
        outputs.append(done.stdout + done.stderr)
    for out in outputs:
        assert key not in out and WEBHOOK_SECRET not in out

    for err_factory in (lambda: Gateway(label_studio.url, key + "x").whoami(), lambda: gateway.get_project(999999)):
        with pytest.raises(ALError) as caught:
            err_factory()
        assert key not in str(caught.value) and key not in repr(caught.value)
    assert key not in repr(gateway) and key not in repr(label_studio)

    assert _grep(data_dir(), key) == [] and _grep(data_dir(), WEBHOOK_SECRET) == []
    assert key not in label_studio_server.log_path.read_text(errors="replace")


def test_secret_files_are_git_ignored() -> None:
    for path in (
        ".data/labelstudio/credentials.json",
        ".data/webhook.secret",
        ".streamlit/secrets.toml",
        ".data/history.sqlite",
    ):
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=str(PROJECT_ROOT))
        assert done.returncode == 0, f"{path} is not git-ignored"


def test_local_label_studio_listens_on_loopback_only(label_studio_server) -> None:
    proc = psutil.Process(label_studio_server.process.pid)
    listening = [
        c.laddr
        for p in [proc, *proc.children(recursive=True)]
        for c in p.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening, "Label Studio listens on no socket"
    assert all(addr.ip == "127.0.0.1" for addr in listening), listening
