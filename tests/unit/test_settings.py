"""Settings: folders under the data dir, the connection's precedence, the webhook secret, secrets masked."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest

from al_core import settings
from al_core.errors import ConfigError
from al_core.settings import Connection

ENV = (
    "AL_DATA_DIR", "AL_DB_URL", "AL_WEBHOOK_SECRET", "AL_WEBHOOK_URL", "AL_LOCAL_SERVER", "AL_TEAM_MODE",
    "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY",
)  # fmt: skip


@pytest.fixture(autouse=True)
def clean_env(tmp_path, monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(settings, "PROJECT_ROOT", tmp_path / "repo")  # no real secrets.toml is read
    return tmp_path


def test_every_folder_is_under_the_data_dir(clean_env):
    data = clean_env / "data"
    assert settings.data_dir() == data
    assert settings.artifacts_dir() == data / "artifacts"
    assert settings.cache_dir() == data / "cache"
    assert settings.local_credentials_path() == data / "labelstudio" / "credentials.json"
    assert settings.local_credentials_path(clean_env / "x") == clean_env / "x" / "labelstudio" / "credentials.json"
    assert settings.db_url() == f"sqlite:///{data / 'history.sqlite'}"


def test_the_defaults_without_the_environment(monkeypatch, clean_env):
    monkeypatch.delenv("AL_DATA_DIR")
    assert settings.data_dir() == clean_env / "repo" / ".data"
    assert settings.webhook_url() == "http://127.0.0.1:8765/webhook"
    assert (settings.local_stack(), settings.team_mode()) == (False, False)


def test_the_environment_overrides(monkeypatch):
    monkeypatch.setenv("AL_DB_URL", "postgresql://u@db/al")
    monkeypatch.setenv("AL_WEBHOOK_URL", "https://dash.example/webhook")
    monkeypatch.setenv("AL_LOCAL_SERVER", "1")
    assert settings.db_url() == "postgresql://u@db/al"
    assert settings.webhook_url() == "https://dash.example/webhook"
    assert settings.local_stack() is True


@pytest.mark.parametrize(("value", "expected"), [("1", True), (" Yes ", True), ("on", True), ("0", False), ("", False)])
def test_team_mode(monkeypatch, value, expected):
    monkeypatch.setenv("AL_TEAM_MODE", value)
    assert settings.team_mode() is expected


def test_the_webhook_secret_is_made_once_private_and_kept(clean_env):
    assert settings.webhook_secret(create=False) is None
    secret = settings.webhook_secret()
    path = clean_env / "data" / "webhook.secret"
    assert secret and len(secret) == 32 and path.read_text(encoding="utf-8") == secret
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert settings.webhook_secret() == secret == settings.webhook_secret(create=False)


def test_the_environment_secret_wins(monkeypatch):
    monkeypatch.setenv("AL_WEBHOOK_SECRET", "from-env")
    assert settings.webhook_secret() == "from-env"
    assert not (settings.data_dir() / "webhook.secret").exists()


def write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_connection_precedence(monkeypatch, clean_env):
    assert settings.default_connection() is None
    write(settings.local_credentials_path(), json.dumps({"url": "http://127.0.0.1:8080", "api_key": "local"}))
    assert settings.default_connection() == Connection("http://127.0.0.1:8080", "local", "local server")
    write(clean_env / "repo" / ".streamlit" / "secrets.toml", '[label_studio]\nurl = "http://s:1"\napi_key = "sk"\n')
    assert settings.default_connection() == Connection("http://s:1", "sk", "secrets.toml")
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://e:2")
    assert settings.default_connection().source == "secrets.toml"  # the URL alone is not a connection
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "ek")
    assert settings.default_connection() == Connection("http://e:2", "ek", "environment")
    assert settings.default_connection("http://a:3", "ak") == Connection("http://a:3", "ak", "argument")


def test_secrets_toml_at_the_top_level_and_broken(clean_env):
    path = clean_env / "repo" / ".streamlit" / "secrets.toml"
    write(path, 'LABEL_STUDIO_URL = "http://t:1"\nLABEL_STUDIO_API_KEY = "tk"\n')
    assert settings.default_connection() == Connection("http://t:1", "tk", "secrets.toml")
    write(path, "url = [unclosed\n")
    with pytest.raises(ConfigError, match=r"^Cannot read .*secrets\.toml: .*\. Fix the file or remove it\.$"):
        settings.default_connection()


def test_the_key_is_never_shown():
    connection = Connection("http://x", "secret-key-1a2b", "environment")
    assert repr(connection) == "Connection(url='http://x', api_key='***', source='environment')"
    assert (settings.mask("secret-key-1a2b"), settings.mask("short"), settings.mask(None)) == ("…1a2b", "…", "")


def test_ports_default_and_follow_their_variables(monkeypatch):
    for name in ("AL_LABEL_STUDIO_PORT", "AL_WEBHOOK_PORT", "AL_DASHBOARD_PORT", "AL_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    assert [settings.port(s) for s in ("label_studio", "webhooks", "dashboard")] == [8080, 8765, 8501]
    monkeypatch.setenv("AL_WEBHOOK_PORT", "9123")
    assert settings.port("webhooks") == 9123
    assert settings.webhook_url() == "http://127.0.0.1:9123/webhook"


@pytest.mark.parametrize("raw", ["0", "70000", "eighty", "-1", "80.5"])
def test_a_bad_port_is_refused_in_one_line(monkeypatch, raw):
    monkeypatch.setenv("AL_DASHBOARD_PORT", raw)
    with pytest.raises(
        ConfigError,
        match=rf"^AL_DASHBOARD_PORT must be a port number from 1 to 65535\. Got '{re.escape(raw)}' instead\.$",
    ):
        settings.port("dashboard")
