"""The Active learning page's versions panel: kept versions with rollback, and background pruning."""

from __future__ import annotations

import streamlit as st

from al_core.context import default_of
from al_core.errors import ALError
from al_core.labelstudio.records import Project
from al_core.pruning import prune_after_run
from al_core.reports import version_summary
from al_core.store import versions
from al_core.store.history import History
from al_core.store.records import IterationRecord
from ui import services, state
from ui.common import md
from ui.services import Connected

KEEP_VERSIONS = default_of("keep_versions")


def kept_versions(
    conn: Connected,
    hist: History,
    project: Project,
    iterations: list[IterationRecord],
    present: dict[str, int],
    old: list[str],
) -> None:
    st.subheader("Kept versions")
    st.caption("Versions whose predictions are still in Label Studio: the queue can switch back to any of them.")
    kept = [it for it in reversed(iterations) if it.status == "succeeded" and it.model_version in present]
    if not kept:
        st.caption("No version has predictions in Label Studio yet.")
        return
    for it in kept:
        cols = st.columns([3, 2, 2, 3], vertical_alignment="center")
        current = it.model_version == project.model_version
        note = " (serving now)" if current else " (old: to prune)" if it.model_version in old else ""
        cols[0].markdown(f"**{md(it.model_version)}**{note}")
        cols[1].caption(f"{it.n_labeled or 0:,} labels, accuracy {version_summary.accuracy_caption(it.metrics)}")
        cols[2].caption(f"{present[it.model_version]:,} predictions")
        if not current and cols[3].button("Roll back to this version", key=state.W_ROLLBACK_PREFIX + it.model_version):
            try:
                versions.rollback(services.gateway(conn), hist, project.id, it.model_version, who=conn.email)
            except ALError as err:
                st.error(str(err))
                return
            services.refresh()
            state.flash("success", f"The queue now serves {md(it.model_version)}.")
            st.rerun()


def prune(conn: Connected, hist: History, project: Project, old: list[str]) -> None:
    threads = st.session_state[state.PRUNE_THREAD]
    thread = threads.get(project.id)
    running = thread is not None and thread.is_alive()
    st.caption(
        f"Old versions whose predictions are still in Label Studio: {len(old)} "
        f"(the last {KEEP_VERSIONS} and the serving one are kept). Deleting takes about 63 ms per prediction."
    )
    if st.button("Prune old versions now", key=state.W_PRUNE, disabled=running or not old, icon=":material/delete:"):
        threads[project.id] = prune_after_run(services.gateway(conn), hist, project.id, KEEP_VERSIONS)
        st.rerun()
    prune_progress(hist, project.id, running)


@st.fragment(run_every=2)
def prune_progress_live(hist: History, project_id: int) -> None:
    thread = st.session_state[state.PRUNE_THREAD].get(project_id)
    if thread is None or not thread.is_alive():
        st.rerun(scope="app")
    st.info("Pruning in the background; you can keep working.", icon=":material/hourglass_top:")
    prune_events(hist, project_id)


def prune_progress(hist: History, project_id: int, running: bool) -> None:
    if running:
        prune_progress_live(hist, project_id)
    else:
        prune_events(hist, project_id)


def prune_events(hist: History, project_id: int) -> None:
    try:
        events = hist.events(project_id, "prune", limit=10)
    except ALError as err:
        st.error(str(err))
        return
    if events:
        st.caption("Pruning log, latest first")
        rows = [
            {
                "at (UTC)": e.at,
                "version": e.detail.get("version", ""),
                "state": e.detail.get("state", ""),
                "error": e.detail.get("error", ""),
            }
            for e in events
        ]
        st.dataframe(rows, hide_index=True, width="stretch")
