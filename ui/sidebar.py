"""The sidebar every page shares: connection status, the current project, Refresh, a link to Label Studio."""

from __future__ import annotations

import streamlit as st

from al_core.labelstudio.records import Project
from ui import activity, services, state
from ui.common import CONNECT_PAGE, md
from ui.services import Connected


def project_selectbox(label: str, key: str, available: list[Project]) -> None:
    """A selectbox bound to the current project (same value on every page, changes go to the URL)."""
    titles = {p.id: f"{p.title} (#{p.id})" for p in available}
    current = services.current_project_id()
    st.session_state[key] = current if current in titles else None

    def on_change() -> None:
        services.select_project(st.session_state[key])

    st.selectbox(
        label,
        list(titles),
        format_func=titles.__getitem__,
        key=key,
        on_change=on_change,
        placeholder="Choose a project",
    )


def render(conn: Connected | None, available: list[Project], problems: list[str]) -> None:
    with st.sidebar:
        if conn is None:
            st.caption("Not connected to Label Studio.")
            st.page_link(CONNECT_PAGE, label="Connect", icon=":material/link:")
        else:
            st.caption(f"Connected to {md(conn.url)} as {md(conn.email)}")
        for problem in problems:
            st.warning(problem)
        if conn is None:
            return
        if available:
            project_selectbox("Current project", state.W_SIDEBAR_PROJECT, available)
        else:
            st.caption("No projects on this server yet.")
        project_id = services.current_project_id()
        if project_id is not None:
            st.link_button(
                "Open in Label Studio",
                f"{conn.url}/projects/{project_id}/data",
                icon=":material/open_in_new:",
                width="stretch",
            )
            activity.sidebar_note(conn, project_id)
        st.button(
            "Refresh",
            key=state.W_REFRESH,
            on_click=services.refresh,
            icon=":material/refresh:",
            help="Read projects and counts from Label Studio again",
            width="stretch",
        )
