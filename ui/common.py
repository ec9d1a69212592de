"""Small page helpers: guard clauses, one-shot messages and safe Markdown."""

from __future__ import annotations

import re

import streamlit as st

from al_core.errors import ALError
from al_core.labelstudio.records import Project
from ui import services, state
from ui.services import Connected

CONNECT_PAGE = "pages/connect.py"
PROJECT_PAGE = "pages/project.py"
AL_PAGE = "pages/active_learning.py"

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: object) -> str:
    """``text`` escaped for st.markdown: user data (titles, labels, URLs) renders as plain text."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def show_flash() -> None:
    shown = {"success": st.success, "info": st.info, "warning": st.warning}
    for kind, text in state.take_flash():
        shown.get(kind, st.info)(text)


def need_connection(what: str = "this page") -> Connected:
    """The tab's connection, or an empty state with a link to the Connect page (stops the page)."""
    conn: Connected | None = st.session_state[state.CONNECTION]
    if conn is None:
        st.info(f"Connect to Label Studio to use {what}.")
        st.page_link(CONNECT_PAGE, label="Connect to Label Studio", icon=":material/link:")
        st.stop()
    return conn


def need_project(conn: Connected, what: str = "this page") -> Project:
    """The current project, or an empty state with a link to the Project page (stops the page)."""
    project_id = services.current_project_id()
    if project_id is None:
        st.info(f"Choose or create a project to use {what} (the project selector is in the sidebar).")
        st.page_link(PROJECT_PAGE, label="Set up a project", icon=":material/folder_open:")
        st.stop()
    try:
        return services.project(conn, project_id)
    except ALError as err:
        st.error(str(err))
        st.page_link(PROJECT_PAGE, label="Choose another project", icon=":material/folder_open:")
        st.stop()


def percent(value: object) -> str:
    """A share as ``'75.0%'``; ``'–'`` when not measured."""
    return f"{value:.1%}" if isinstance(value, float) else "–"
