"""The store's tests open databases written by earlier versions: their upgrade attaches old rows to the server
configured then (migration 0003), so every test here has one configured, never the developer's own."""

from __future__ import annotations

import pytest

from al_core import settings

CONFIGURED = "http://127.0.0.1:8080"  # LS in the tests: the server the old rows were written with


@pytest.fixture(autouse=True)
def configured_server(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(settings, "PROJECT_ROOT", tmp_path / "repo")  # no real .streamlit/secrets.toml
    monkeypatch.setenv("LABEL_STUDIO_URL", CONFIGURED)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "a-key")
