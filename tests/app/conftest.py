"""AppTest helpers: the app started from its real entry point, optionally already connected."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from al_core.settings import Connection
from ui import state
from ui.services import Connected

APP = Path(__file__).resolve().parents[2] / "app.py"
SERVER_TIMEOUT = 120  # runs that talk to Label Studio (imports, iterations) get generous time


@pytest.fixture(autouse=True)
def _entry_point_runs_every_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run app.py (the router) on every AppTest run, as a live server does.

    Streamlit treats a ``pages/`` folder next to the entry point as a v1 multipage app until the first
    ``st.navigation`` call switches that off for the process. AppTest resets the flag before every run, so
    after ``switch_page`` it would run the page file on its own, skipping app.py's sidebar and URL handling.
    """
    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
    yield


@pytest.fixture
def make_app() -> Callable[..., AppTest]:
    """``make_app(connection=None)``: a fresh app (one browser tab), connected when given a Connection."""

    def make(connection: Connection | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=SERVER_TIMEOUT)
        if connection is not None:
            at.session_state[state.CONNECTION] = Connected(connection.url, connection.api_key, "admin", "entered")
        return at

    return make
