"""The one place that reads the environment and secrets files into typed settings.

Precedence for the Label Studio connection: explicit arguments > environment
(``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``) > ``.streamlit/secrets.toml`` > the local server
that ``make run`` started (its credentials file under ``.data/``).
"""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from al_core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_LS_PORT = 8080  # defaults of the ports ``make run`` uses; each can be changed, see ``port``
WEBHOOK_PORT = 8765
DASHBOARD_PORT = 8501
_PORT_VARIABLES = {
    "label_studio": ("AL_LABEL_STUDIO_PORT", LOCAL_LS_PORT),
    "webhooks": ("AL_WEBHOOK_PORT", WEBHOOK_PORT),
    "dashboard": ("AL_DASHBOARD_PORT", DASHBOARD_PORT),
}


def port(service: str) -> int:
    """The loopback port of ``service`` (``label_studio``, ``webhooks`` or ``dashboard``) that ``make run`` uses:
    ``AL_LABEL_STUDIO_PORT``, ``AL_WEBHOOK_PORT``, ``AL_DASHBOARD_PORT``, else 8080, 8765, 8501.

    Raises ConfigError when the variable is not a port number (1-65535)."""
    variable, default = _PORT_VARIABLES[service]
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{variable} must be a port number from 1 to 65535. Got {raw!r} instead.")
    return int(raw)


def data_dir() -> Path:
    """Where history, artifacts, caches and the local server live (``AL_DATA_DIR``, default ``.data/``)."""
    return Path(os.environ.get("AL_DATA_DIR") or PROJECT_ROOT / ".data")


def local_credentials_path(base: Path | None = None) -> Path:
    """The file holding the local Label Studio's URL and API key (never committed)."""
    return (base or data_dir()) / "labelstudio" / "credentials.json"


def db_url() -> str:
    """The history database URL (``AL_DB_URL``; default a SQLite file under the data dir)."""
    url = os.environ.get("AL_DB_URL")
    if url:
        return url
    path = data_dir() / "history.sqlite"
    return f"sqlite:///{path}"


def artifacts_dir() -> Path:
    return data_dir() / "artifacts"


def cache_dir() -> Path:
    return data_dir() / "cache"


def webhook_secret(create: bool = True) -> str | None:
    """``AL_WEBHOOK_SECRET``, else a secret generated once under the data dir (mode 0600, git-ignored)."""
    if os.environ.get("AL_WEBHOOK_SECRET"):
        return os.environ["AL_WEBHOOK_SECRET"]
    path = data_dir() / "webhook.secret"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip() or None
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_urlsafe(24))
    return path.read_text(encoding="utf-8").strip()


def webhook_url() -> str:
    """Where Label Studio should deliver webhooks (``AL_WEBHOOK_URL``; default the local receiver)."""
    return os.environ.get("AL_WEBHOOK_URL") or f"http://127.0.0.1:{port('webhooks')}/webhook"


def local_stack() -> bool:
    """True under ``make run`` with its own local Label Studio and webhook receiver (``AL_LOCAL_SERVER=1``)."""
    return os.environ.get("AL_LOCAL_SERVER") == "1"


def team_mode() -> bool:
    """``AL_TEAM_MODE=1``: each browser must enter its own API key; the environment key is not used."""
    return os.environ.get("AL_TEAM_MODE", "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Connection:
    """A Label Studio URL and API key, and where they came from (for the UI)."""

    url: str
    api_key: str
    source: str  # "argument", "environment", "secrets.toml", "local server"

    def __repr__(self) -> str:  # never show the key, even in debug output
        return f"Connection(url={self.url!r}, api_key='***', source={self.source!r})"


def _from_secrets_toml(path: Path) -> Connection | None:
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"Cannot read {path}: {err}. Fix the file or remove it.") from err
    section = data.get("label_studio", data)
    url, key = (
        section.get("url") or section.get("LABEL_STUDIO_URL"),
        section.get("api_key") or section.get("LABEL_STUDIO_API_KEY"),
    )
    if url and key:
        return Connection(str(url), str(key), "secrets.toml")
    return None


def read_local_credentials(base: Path | None = None) -> Connection | None:
    """The local server's connection written by ``make run`` / the test fixture, if any."""
    path = local_credentials_path(base)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Connection(data["url"], data["api_key"], "local server")


def default_connection(url: str | None = None, api_key: str | None = None) -> Connection | None:
    """The connection to use when the user has not typed one, or None when nothing is configured."""
    if url and api_key:
        return Connection(url, api_key, "argument")
    env_url, env_key = os.environ.get("LABEL_STUDIO_URL"), os.environ.get("LABEL_STUDIO_API_KEY")
    if env_url and env_key:
        return Connection(env_url, env_key, "environment")
    found = _from_secrets_toml(PROJECT_ROOT / ".streamlit" / "secrets.toml")
    return found or read_local_credentials()


def mask(secret: str | None) -> str:
    """A secret shown as its last 4 characters only (``'…1a2b'``)."""
    if not secret:
        return ""
    return "…" + secret[-4:] if len(secret) > 8 else "…"
