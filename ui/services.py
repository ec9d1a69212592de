"""Shared clients (``st.cache_resource``), cached reads (``st.cache_data``) and the tab's connection/project.

Cached clients are shared by every session of this process and never mutated. A Gateway is cached per
(url, key): the key is only a cache key in memory, never written anywhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

from al_core import settings
from al_core.automation import registration as automation
from al_core.errors import ALError
from al_core.labelstudio.gateway import Gateway, server_health
from al_core.labelstudio.records import Project
from al_core.store.history import History
from al_core.store.records import IterationRecord
from ui import state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Connected:
    """A validated connection of this browser tab."""

    url: str
    api_key: str
    email: str
    source: str  # "environment", "secrets.toml", "local server" or "entered"

    def __repr__(self) -> str:  # never show the key, even in debug output
        return f"Connected(url={self.url!r}, email={self.email!r}, api_key='***', source={self.source!r})"

    @property
    def masked_key(self) -> str:
        return settings.mask(self.api_key)


@st.cache_resource(max_entries=8, show_spinner=False)
def _history(db_url: str, server: str) -> History:
    return History(db_url, server=server)


def history(conn: Connected) -> History:
    """The history of the tab's Label Studio server in this process's store (project ids belong to a server;
    raises HistoryUnavailable when the database cannot be opened)."""
    return _history(settings.db_url(), conn.url)


@st.cache_data(max_entries=32, show_spinner=False)
def _iterations(db_url: str, server: str, project_id: int, last_change: str) -> list[IterationRecord]:
    return _history(db_url, server).iterations(project_id)


def iterations(conn: Connected, project_id: int) -> tuple[list[IterationRecord], str]:
    """The project's iterations, oldest first, and the history's ``last_change`` they were read at: read
    again only after the history changed (a run started, stepped or finished), whichever session changed it."""
    last_change = history(conn).last_change(project_id)
    return _iterations(settings.db_url(), conn.url, project_id, last_change), last_change


@st.cache_resource(max_entries=64, show_spinner=False)
def _gateway(url: str, api_key: str) -> Gateway:
    return Gateway(url, api_key)


def gateway(conn: Connected) -> Gateway:
    return _gateway(conn.url, conn.api_key)


def check_connection(url: str, api_key: str, source: str) -> Connected:
    """Validate a URL and key with ``whoami``; raises ConnectionFailed / AuthenticationFailed."""
    url, api_key = settings.normalize_url(url), settings.normalize_api_key(api_key)  # as a person means them
    gw = _gateway(url, api_key)
    user = gw.whoami()
    return Connected(gw.url, api_key, user.email or user.username, source)


def current_connection() -> Connected | None:
    """This tab's connection; the configured default is tried once per session (never in team mode)."""
    conn: Connected | None = st.session_state[state.CONNECTION]
    if conn is not None or settings.team_mode() or st.session_state[state.AUTO_CONNECT_TRIED]:
        return conn
    st.session_state[state.AUTO_CONNECT_TRIED] = True
    try:
        default = settings.default_connection()
        if default is None:
            return None
        if not server_health(default.url):  # fail fast instead of retrying a server that is down
            raise ALError(f"Label Studio at {default.url} ({default.source}) does not answer. Is it running?")
        conn = check_connection(default.url, default.api_key, default.source)
    except ALError as err:
        st.session_state[state.AUTO_CONNECT_ERROR] = str(err)
        return None
    st.session_state[state.CONNECTION] = conn
    return conn


def connect(conn: Connected) -> None:
    previous: Connected | None = st.session_state[state.CONNECTION]
    st.session_state[state.CONNECTION] = conn
    st.session_state[state.AUTO_CONNECT_ERROR] = None
    if previous is not None and previous.url != conn.url:
        select_project(None)  # project ids belong to a server
    refresh()


def disconnect() -> None:
    st.session_state[state.CONNECTION] = None
    st.session_state[state.AUTO_CONNECT_TRIED] = True  # do not silently reconnect with the default
    refresh()


@st.cache_data(ttl=60, max_entries=64, show_spinner="Reading projects from Label Studio ...")
def _projects(url: str, api_key: str) -> list[Project]:
    return _gateway(url, api_key).list_projects()


def projects(conn: Connected, must_include: int | None = None) -> list[Project]:
    """The server's projects; read again when ``must_include`` (e.g. from a link) is missing from the cache."""
    found = _projects(conn.url, conn.api_key)
    if must_include is not None and all(p.id != must_include for p in found):
        _projects.clear()  # created since the list was cached (by a teammate, or in Label Studio itself)
        found = _projects(conn.url, conn.api_key)
    return found


@st.cache_data(ttl=15, max_entries=256, show_spinner=False)
def _project(url: str, api_key: str, project_id: int) -> Project:
    return _gateway(url, api_key).get_project(project_id)


def project(conn: Connected, project_id: int) -> Project:
    """The project with fresh counts (cached a few seconds; Refresh clears it)."""
    return _project(conn.url, conn.api_key, project_id)


def refresh() -> None:
    """Forget cached Label Studio reads (after a change, or when the user asks)."""
    st.cache_data.clear()


# -- the current project and the URL ---------------------------------------------------------------
def current_project_id() -> int | None:
    return st.session_state[state.PROJECT_ID]


def select_project(project_id: int | None) -> None:
    """Make ``project_id`` current in this tab and in the URL (a copied URL opens the same project)."""
    if project_id != st.session_state[state.PROJECT_ID]:
        st.session_state[state.VERSION] = None
    st.session_state[state.PROJECT_ID] = project_id
    _write_url()


def _write_url() -> None:
    project_id, version = st.session_state[state.PROJECT_ID], st.session_state[state.VERSION]
    if project_id is None:
        st.query_params.pop("project", None)
    elif st.query_params.get("project") != str(project_id):
        st.query_params["project"] = str(project_id)
    if version is None:
        st.query_params.pop("version", None)
    elif st.query_params.get("version") != version:
        st.query_params["version"] = version


def read_url() -> str | None:
    """Apply ``?project=ID&version=NAME`` from the URL; returns a warning for a malformed id."""
    raw = st.query_params.get("project")
    if raw is not None:
        try:
            project_id = int(raw)
        except ValueError:
            st.query_params.pop("project", None)
            return f"The link's project {raw!r} is not a project id (a number); pick a project instead."
        if project_id != st.session_state[state.PROJECT_ID]:
            st.session_state[state.PROJECT_ID] = project_id
            st.session_state[state.VERSION] = None
    version = st.query_params.get("version")
    if version:
        st.session_state[state.VERSION] = version
    return None


def settle_project(available: list[Project]) -> str | None:
    """Check the current project against the server's; pick the only one when there is exactly one.

    Returns a warning when the selected id does not exist on this server.
    """
    warning = None
    project_id = st.session_state[state.PROJECT_ID]
    ids = [p.id for p in available]
    if project_id is not None and project_id not in ids:
        warning = f"Project {project_id} does not exist on this server (or this API key cannot see it)."
        project_id = None
    elif project_id is None and len(ids) == 1:
        project_id = ids[0]
    select_project(project_id)
    return warning


# -- background work ----------------------------------------------------------------------------------
def automate_new_project(conn: Connected, project_id: int) -> str | None:
    """Under ``make run`` (local Label Studio + receiver), register the webhook of a project created here,
    so labeling alone makes new versions appear. Returns a note for the user, or None elsewhere."""
    if not settings.local_stack():
        return None
    try:
        automation.register(gateway(conn), project_id, settings.webhook_url(), settings.webhook_secret() or "")
    except ALError as err:
        return f"Automatic iterations are off for this project: {err}"
    return f"Automatic iterations are on: every {automation.DEFAULT_EVERY} new annotations retrain (Automation page)."
