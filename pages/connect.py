"""Connect: the Label Studio URL and API key of this browser tab, checked with ``whoami``."""

from __future__ import annotations

import streamlit as st

from al_core import settings
from al_core.errors import ALError
from ui import services, state
from ui.common import PROJECT_PAGE, md

state.init()
st.title("Connect to Label Studio")

team_mode = settings.team_mode()
try:
    default = settings.default_connection()
except ALError as err:
    st.warning(str(err))
    default = None
conn: services.Connected | None = st.session_state[state.CONNECTION]

if conn is not None:
    try:  # checked again on every visit: a key that worked may have been reset or revoked since
        services.gateway(conn).whoami()
    except ALError as err:
        st.error(f"The connection of this tab no longer works. {err}")
    else:
        st.success(
            f"Connected to {md(conn.url)} as {md(conn.email)} (API key {md(conn.masked_key)}, from {md(conn.source)})."
        )
        st.page_link(PROJECT_PAGE, label="Next: set up a project", icon=":material/folder_open:")
    st.button("Disconnect", key=state.W_DISCONNECT, on_click=services.disconnect, icon=":material/link_off:")
elif st.session_state[state.AUTO_CONNECT_ERROR]:
    st.warning(f"The configured connection did not work: {st.session_state[state.AUTO_CONNECT_ERROR]}")

if team_mode:
    st.info(
        "Team mode: everyone enters their own API key. It stays in this browser tab's session only: it is "
        "never saved to disk, to the history or to the URL, and reloading the page forgets it."
    )
elif default is None:
    st.caption(
        "Nothing is configured: set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY, add them to "
        ".streamlit/secrets.toml, or start everything with `make run` (a local Label Studio on port 8080)."
    )

default_url = default.url if default else "http://127.0.0.1:8080"
use_default_key = default is not None and not team_mode
with st.form("connect", border=True, clear_on_submit=True):  # the typed key does not stay in the page
    st.text_input("Label Studio URL", value=default_url, key=state.W_CONNECT_URL)
    st.text_input(
        "API key",
        type="password",
        key=state.W_CONNECT_KEY,
        placeholder=f"empty: use the configured key {settings.mask(default.api_key)}" if use_default_key else "",
        help="In Label Studio: Account & Settings > Legacy Token (or a Personal Access Token).",
    )
    submitted = st.form_submit_button("Check connection", type="primary", key=state.W_CONNECT_SUBMIT)

if submitted:
    url = (st.session_state[state.W_CONNECT_URL] or "").strip()
    typed = (st.session_state[state.W_CONNECT_KEY] or "").strip()
    api_key, source = typed, "entered"
    if not typed and use_default_key:
        api_key, source = default.api_key, default.source
    if not api_key:
        st.error("Enter an API key. Copy it from Label Studio: Account & Settings > Legacy Token.")
        st.stop()
    try:
        with st.spinner(f"Checking the API key with {md(url)} ..."):
            checked = services.check_connection(url, api_key, source)
    except ALError as err:
        st.error(str(err))
        st.stop()
    services.connect(checked)
    state.flash("success", f"Connected to {md(checked.url)} as {md(checked.email)}.")
    st.rerun()
