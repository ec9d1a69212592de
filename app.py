"""The dashboard's entry point and router: ``streamlit run app.py`` (``make run`` starts everything).

Every run: page config -> session state -> the URL's ?project= -> the connection -> the shared sidebar ->
the chosen page. Pages are listed explicitly (st.navigation turns off ``pages/`` auto-discovery).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from al_core.errors import ALError
from ui import services, sidebar, state
from ui.common import show_flash

ROOT = Path(__file__).resolve().parent
OPTIONAL_PAGES = frozenset({"pages/strategy_lab.py", "pages/automation.py"})  # listed once their files exist


def _pages() -> list[st.Page]:
    pages = [
        ("pages/home.py", "Home", ":material/home:"),
        ("pages/connect.py", "Connect", ":material/link:"),
        ("pages/project.py", "Project", ":material/folder_open:"),
        ("pages/active_learning.py", "Active learning", ":material/model_training:"),
        ("pages/progress.py", "Progress", ":material/monitoring:"),
        ("pages/label_issues.py", "Label issues", ":material/rule:"),
        ("pages/strategy_lab.py", "Strategy lab", ":material/science:"),
        ("pages/automation.py", "Automation", ":material/bolt:"),
    ]
    return [
        st.Page(path, title=title, icon=icon, default=path == "pages/home.py")
        for path, title, icon in pages
        if path not in OPTIONAL_PAGES or (ROOT / path).is_file()
    ]


def main() -> None:
    st.set_page_config(layout="wide", page_title="Active learning for Label Studio")
    state.init()
    page = st.navigation(_pages())
    problems = [p for p in [services.read_url()] if p]
    conn = services.current_connection()
    available = []
    if conn is not None:
        try:
            available = services.projects(conn, must_include=services.current_project_id())
            problems += [p for p in [services.settle_project(available)] if p]
        except ALError as err:
            problems.append(str(err))
    sidebar.render(conn, available, problems)
    show_flash()
    page.run()


main()
