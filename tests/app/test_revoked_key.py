"""The dashboard, connected with a key that its owner then resets in Label Studio (real server): every
page shows what happened and how to fix it, never a traceback, and the key never appears."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.settings import Connection, db_url
from al_core.store.history import History
from tests.ls_users import reset_token, sign_up
from ui import state

REJECTED = ("refused the API key (401: Invalid token.)", "reset or revoked", "connect again")


def _shown(at: AppTest) -> str:
    parts = [e.value for kind in ("error", "warning", "markdown", "caption", "success", "info") for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def _rejected(messages) -> bool:
    return any(all(part in str(m.value) for part in REJECTED) for m in messages)


def test_a_key_reset_mid_session_is_shown_as_a_message(
    make_app: Callable[..., AppTest], label_studio: Connection, unique_title: str
) -> None:
    member = sign_up(label_studio.url, label_studio.api_key)
    gw = Gateway(label_studio.url, member.token)
    project = gw.create_project(unique_title, TEMPLATES["sentiment"])
    gw.import_tasks(project.id, [[{"data": {"text": t}} for t in ("good", "bad", "fine", "so-so", "awful")]])
    at = make_app(Connection(label_studio.url, member.token, "entered"))
    at.query_params["project"] = str(project.id)
    at.switch_page("pages/active_learning.py").run()
    assert not at.exception and not at.error, _shown(at)

    reset_token(label_studio.url, member.token)
    at.button(key=state.W_RUN).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _rejected(at.error), _shown(at)
    assert History(db_url(), server=label_studio.url).iterations(project.id) == [], "nothing recorded"
    assert Gateway(label_studio.url, label_studio.api_key).get_project(project.id).model_version == ""

    at.switch_page("pages/connect.py").run()  # the connection check no longer says "Connected"
    assert not at.exception and _rejected(at.error), _shown(at)
    assert not any("Connected to" in s.value for s in at.success)

    at.button(key=state.W_REFRESH).click().run()  # cached reads are gone: every read now says why
    assert not at.exception and _rejected(at.sidebar.warning), _shown(at)
    for page in ("pages/home.py", "pages/project.py", "pages/progress.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert _rejected([*at.error, *at.sidebar.warning]), (page, _shown(at))
    assert member.token not in _shown(at)
