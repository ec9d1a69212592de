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


# -- what a person pastes is taken as a person means it --------------------------------------------------------
@pytest.mark.parametrize(
    ("pasted", "meant"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("  http://127.0.0.1:8080/ \n", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080///", "http://127.0.0.1:8080"),
        ('"http://127.0.0.1:8080/"', "http://127.0.0.1:8080"),
        ("<https://ls.example.com>", "https://ls.example.com"),
        ("HTTPS://LS.Example.COM:8443/", "https://ls.example.com:8443"),
        ("http://127.0.0.1:8080/projects/3/data?tab=2&task=7", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/user/login/", "http://127.0.0.1:8080"),
        ("https://example.com/label-studio/projects/", "https://example.com/label-studio"),
        ("https://example.com/label-studio/", "https://example.com/label-studio"),
        ("127.0.0.1:8080/", "127.0.0.1:8080"),  # no scheme: left for the Gateway to refuse in words
        ("", ""),
        (None, ""),
    ],
)
def test_a_pasted_url_is_the_server_a_person_means(pasted, meant):
    assert settings.normalize_url(pasted) == meant
    assert settings.normalize_url(meant) == meant, "normalizing twice changes nothing"


@pytest.mark.parametrize(
    ("pasted", "meant"),
    [
        ("0123abcd", "0123abcd"),
        ("  0123abcd\n", "0123abcd"),
        ("Token 0123abcd", "0123abcd"),
        ("token   0123abcd ", "0123abcd"),
        ("Authorization: Token 0123abcd", "0123abcd"),
        ("Bearer eyJhbGci.eyJzdWIi.sig", "eyJhbGci.eyJzdWIi.sig"),
        ("'0123abcd'", "0123abcd"),
        ('Token "0123abcd"', "0123abcd"),
        ("eyJhbGci.eyJz\ndWIi.sig", "eyJhbGci.eyJzdWIi.sig"),  # a token wrapped across two lines
        ("Tokenized0123", "Tokenized0123"),  # a key that merely starts with the word stays whole
        (None, ""),
    ],
)
def test_a_pasted_api_key_is_the_key_a_person_means(pasted, meant):
    assert settings.normalize_api_key(pasted) == meant


def test_every_way_a_connection_comes_is_normalized(monkeypatch, clean_env):
    meant = Connection("http://127.0.0.1:8080", "0123abcd", "environment")
    assert (meant.url, meant.api_key) == ("http://127.0.0.1:8080", "0123abcd")
    monkeypatch.setenv("LABEL_STUDIO_URL", " http://127.0.0.1:8080/ ")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "Token 0123abcd\n")
    assert settings.default_connection() == meant
    given = settings.default_connection("http://127.0.0.1:8080/", " Token 0123abcd ")
    assert (given.url, given.api_key, given.source) == (meant.url, meant.api_key, "argument")
    monkeypatch.setenv("LABEL_STUDIO_URL", "   ")  # blank: not configured
    write(
        clean_env / "repo" / ".streamlit" / "secrets.toml",
        '[label_studio]\nurl = "http://s:1/ "\napi_key = "Token sk"\n',
    )
    assert settings.default_connection() == Connection("http://s:1", "sk", "secrets.toml")


def test_the_receivers_secret_and_url_are_taken_as_pasted(monkeypatch, clean_env):
    monkeypatch.setenv("AL_WEBHOOK_SECRET", ' "s3cret"\n')
    monkeypatch.setenv("AL_WEBHOOK_URL", " https://dash.example/webhook/ ")
    assert (settings.webhook_secret(), settings.webhook_url()) == ("s3cret", "https://dash.example/webhook")
    assert settings.normalize_secret(" my pass phrase ") == "my pass phrase", "inside, a secret stays as it is"
    monkeypatch.setenv("AL_WEBHOOK_SECRET", "  ")
    write(settings.data_dir() / "webhook.secret", "from-file\n")
    assert settings.webhook_secret() == "from-file"


def test_the_server_key_is_one_per_server_however_its_url_was_pasted():
    from al_core.labelstudio.task_cache import cache_path
    from al_core.learning.embeddings import project_scope

    variants = ["http://127.0.0.1:8080", " http://127.0.0.1:8080/", "HTTP://127.0.0.1:8080/projects/2/"]
    variants += ["http://localhost:8080", "http://[::1]:8080/"]  # this machine's loopback, named another way
    assert {settings.server_key(v) for v in variants} == {"http://127.0.0.1:8080"}
    assert len({settings.server_slug(v) for v in variants}) == 1 and len(settings.server_slug(variants[0])) == 12
    assert {cache_path(v, 2) for v in variants} == {cache_path("http://127.0.0.1:8080", 2)}
    assert {project_scope(v, 2) for v in variants} == {"http://127.0.0.1:8080|project-2"}
    assert settings.server_slug("http://127.0.0.1:8081") != settings.server_slug("http://127.0.0.1:8080")
    assert settings.server_key("https://localhost.example.com/") == "https://localhost.example.com"


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
