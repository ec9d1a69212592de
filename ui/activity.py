"""Running and failed iterations, shown the same way on every page (al_core.reports.activity writes the words)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from al_core.errors import ALError
from al_core.reports.activity import Activity, activity
from al_core.store.records import IterationRecord
from al_core.store.rows import utcnow
from ui import services
from ui.common import md
from ui.services import Connected

_SHOWN = {"running": st.info, "interrupted": st.warning, "failed": st.warning}
_ICONS = {"running": ":material/hourglass_top:", "interrupted": ":material/warning:", "failed": ":material/error:"}


def current(conn: Connected, project_id: int, records: Sequence[IterationRecord] | None = None) -> list[Activity]:
    """The project's running iterations and its last failure; ``records`` when the page already read them."""
    hist = services.history(conn)
    holder = hist.lock_holder(project_id)
    return activity(hist.iterations(project_id) if records is None else records, holder, utcnow())


def banner(
    conn: Connected, project_id: int, records: Sequence[IterationRecord] | None = None, *, failed: bool = True
) -> None:
    """One message per running iteration (and the last failure unless ``failed`` is False): a page's top."""
    try:
        found = current(conn, project_id, records)
    except ALError as err:
        st.error(str(err))
        return
    for item in found:
        if failed or item.kind != "failed":
            _SHOWN[item.kind](md(_sentence(item)), icon=_ICONS[item.kind])


def sidebar_note(conn: Connected, project_id: int) -> None:
    """In the sidebar of every page: the iteration that runs now, if any (cheap: the lock is read first)."""
    try:
        hist = services.history(conn)
        holder = hist.lock_holder(project_id)
        if holder is None:
            return
        found = activity(hist.iterations(project_id), holder, utcnow())
    except ALError as err:
        st.caption(md(err))
        return
    for item in found:
        if item.kind == "running":
            st.info(md(_sentence(item)), icon=_ICONS["running"])


def _sentence(item: Activity) -> str:
    if item.kind == "failed":
        return f"The last iteration {item.text}"
    return f"Iteration {item.text}" if item.kind == "running" else item.text
