"""The one place that reads the environment and secrets files into typed settings.

Precedence for the Label Studio connection: explicit arguments > environment
(``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``) > ``.streamlit/secrets.toml`` > the local server
that ``make run`` started (its credentials file under ``.data/``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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
    """``AL_WEBHOOK_SECRET`` (read as pasted: ``normalize_secret``), else a secret generated once under the data
    dir (mode 0600, git-ignored)."""
    if normalize_secret(os.environ.get("AL_WEBHOOK_SECRET")):
        return normalize_secret(os.environ["AL_WEBHOOK_SECRET"])
    path = data_dir() / "webhook.secret"
    if path.is_file():
        return normalize_secret(path.read_text(encoding="utf-8")) or None
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_urlsafe(24))
    return path.read_text(encoding="utf-8").strip()


def webhook_url() -> str:
    """Where Label Studio should deliver webhooks (``AL_WEBHOOK_URL`` without surrounding whitespace, quotes or
    a trailing slash; default the local receiver)."""
    return _unwrapped(os.environ.get("AL_WEBHOOK_URL")).rstrip("/") or f"http://127.0.0.1:{port('webhooks')}/webhook"


def local_stack() -> bool:
    """True under ``make run`` with its own local Label Studio and webhook receiver (``AL_LOCAL_SERVER=1``)."""
    return os.environ.get("AL_LOCAL_SERVER") == "1"


def team_mode() -> bool:
    """``AL_TEAM_MODE=1``: each browser must enter its own API key; the environment key is not used."""
    return os.environ.get("AL_TEAM_MODE", "").strip().lower() in {"1", "true", "yes", "on"}


_QUOTES = ('""', "''", "``", "<>")  # pairs a pasted value may come wrapped in
_AUTH_WORD = re.compile(r"^(authorization:\s*)?(token|bearer)\s+", re.IGNORECASE)  # an Authorization header's words
_LOOPBACK_NAMES = {"localhost", "::1"}  # other names of 127.0.0.1 (this machine), as urlsplit reads hosts
_PAGE_PATH = re.compile(r"/(projects|user|organization|api)(/.*)?$")  # a Label Studio page, not the server


def _unwrapped(value: str | None) -> str:
    text = (value or "").strip()
    while len(text) >= 2 and text[0] + text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def normalize_url(url: str | None) -> str:
    """A Label Studio URL as a person means it when pasting it: surrounding whitespace and quotes dropped, a
    query, a fragment, a Label Studio page (``/projects/3/data``, ``/user/login``) and trailing slashes dropped,
    scheme and host in lower case (``" HTTP://LS.example.com:8080/projects/ "`` -> ``http://ls.example.com:8080``).
    A path in front of the page stays (a server under a sub-path). Empty when nothing was given.

    The one normalization of URLs: connections (flags, environment, secrets.toml, the Connect page), the
    ``Gateway`` and the server key of everything stored per server go through it.
    """
    text = _unwrapped(url)
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return text.rstrip("/")  # not a URL we can read: left for the Gateway to refuse in words
    netloc = parts.netloc if "@" in parts.netloc else parts.netloc.lower()
    path = _PAGE_PATH.sub("", parts.path).rstrip("/")
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


def normalize_api_key(key: str | None) -> str:
    """An API key as a person means it when pasting it: surrounding whitespace and quotes dropped, the
    ``Token `` or ``Bearer `` (and ``Authorization:``) of an HTTP header dropped, line breaks inside dropped (a legacy token
    and a personal access token never hold whitespace). Empty when nothing was given."""
    text = _AUTH_WORD.sub("", _unwrapped(key))
    return "".join(_unwrapped(text).split())


def normalize_secret(secret: str | None) -> str:
    """A shared secret (``AL_WEBHOOK_SECRET``, ``serve-webhooks --secret``) as pasted: surrounding whitespace and
    quotes dropped; the receiver and the webhook's header then carry the same value. Empty when none."""
    return _unwrapped(secret)


def server_key(url: str) -> str:
    """The one name of a Label Studio server for everything kept per server: the history's rows, the task
    and embedding caches (``labelstudio.task_cache``, ``learning.embeddings.project_scope``) and the
    artifacts (``server_slug``). The URL as ``normalize_url`` reads it (a pasted trailing slash or whitespace
    never makes a second server), with this machine's loopback names as one (``localhost``, ``[::1]`` ->
    ``127.0.0.1``: the same server typed two ways). The same server behind another host or port (a proxy)
    is another key: nothing a URL says shows that it is the same server."""
    normalized = normalize_url(url)
    parts = urlsplit(normalized)
    if parts.hostname in _LOOPBACK_NAMES and "@" not in parts.netloc:
        netloc = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return normalized


def server_slug(url: str) -> str:
    """``server_key`` as a short file-name part (12 hex digits of its SHA-256): the task cache and the
    artifacts folders."""
    return hashlib.sha256(server_key(url).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Connection:
    """A Label Studio URL and API key, and where they came from (for the UI); both normalized as pasted
    (``normalize_url``, ``normalize_api_key``) whichever way they came."""

    url: str
    api_key: str
    source: str  # "argument", "environment", "secrets.toml", "local server"

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", normalize_url(self.url))
        object.__setattr__(self, "api_key", normalize_api_key(self.api_key))

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
    found = Connection(str(url or ""), str(key or ""), "secrets.toml")
    return found if found.url and found.api_key else None


def read_local_credentials(base: Path | None = None) -> Connection | None:
    """The local server's connection written by ``make run`` / the test fixture, if any."""
    path = local_credentials_path(base)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Connection(data["url"], data["api_key"], "local server")


def default_connection(url: str | None = None, api_key: str | None = None) -> Connection | None:
    """The connection to use when the user has not typed one, or None when nothing is configured."""
    given = Connection(url or "", api_key or "", "argument")
    if given.url and given.api_key:
        return given
    env = Connection(os.environ.get("LABEL_STUDIO_URL", ""), os.environ.get("LABEL_STUDIO_API_KEY", ""), "environment")
    if env.url and env.api_key:
        return env
    found = _from_secrets_toml(PROJECT_ROOT / ".streamlit" / "secrets.toml")
    return found or read_local_credentials()


def mask(secret: str | None) -> str:
    """A secret shown as its last 4 characters only (``'…1a2b'``)."""
    if not secret:
        return ""
    return "…" + secret[-4:] if len(secret) > 8 else "…"
