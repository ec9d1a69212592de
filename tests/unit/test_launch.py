"""``make run``'s choice of Label Studio, without starting anything: a configured server is used as is (its key
masked in the output), a URL without a key is refused, else the local server is started or reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from al_core import launch
from al_core.errors import ALError
from al_core.labelstudio.local_server import LocalServer
from al_core.settings import Connection


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch):
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_a_configured_label_studio_is_used_and_its_key_masked(monkeypatch, capsys):
    monkeypatch.setenv("LABEL_STUDIO_URL", "https://ls.example")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "abcdefgh-1234")
    monkeypatch.setattr(launch, "start_local_server", lambda *a, **k: pytest.fail("no local server is started"))
    assert launch._label_studio() == (None, {})
    assert capsys.readouterr().out == "[al] Using the Label Studio at https://ls.example (key …1234).\n"


def test_a_url_without_a_key_is_refused_before_anything_starts(monkeypatch, capsys):
    monkeypatch.setenv("LABEL_STUDIO_URL", "https://ls.example")
    message = r"^LABEL_STUDIO_URL is set but LABEL_STUDIO_API_KEY is not: set both, or unset the URL\.$"
    with pytest.raises(ALError, match=message):
        launch._label_studio()
    assert launch.main() == 1
    assert capsys.readouterr().out == (
        "[al] error: LABEL_STUDIO_URL is set but LABEL_STUDIO_API_KEY is not: set both, or unset the URL.\n"
    )


@pytest.mark.parametrize(("process", "state"), [(None, "already running; reusing it"), (object(), "started")])
def test_otherwise_the_local_server_is_started_or_reused(monkeypatch, capsys, env, process, state):
    started: list[tuple[Path, int]] = []
    server = LocalServer(Connection("http://127.0.0.1:8080", "local-key-9z9z", "local server"), env / "ls.log", process)

    def fake_start(data_dir: Path, *, port: int) -> LocalServer:
        started.append((data_dir, port))
        return server

    monkeypatch.setattr(launch, "start_local_server", fake_start)
    assert launch._label_studio() == (server, {"AL_LOCAL_SERVER": "1"})
    data = env / "data"
    assert started == [(data, 8080)] and data.is_dir()
    assert capsys.readouterr().out.splitlines() == [
        f"[al] Starting Label Studio on 127.0.0.1:8080 (data in {data}; the first start takes ~1 min) ...",
        f"[al] Label Studio {state}: http://127.0.0.1:8080 (user admin@localhost.local, key …9z9z).",
        f"[al] The password and full key are in {data / 'labelstudio' / 'credentials.json'} (git-ignored).",
    ]
