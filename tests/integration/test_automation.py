"""Registering and removing the receiver's webhook in the real Label Studio."""

from __future__ import annotations

import pytest

from al_core.automation import registration as automation
from al_core.errors import ConfigError
from al_core.labelstudio.gateway import WEBHOOK_ACTIONS, Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.settings import db_url
from al_core.store.history import History

URL = "http://127.0.0.1:8765/webhook"


def test_register_state_and_remove(gateway: Gateway, unique_title: str) -> None:
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    history = History(db_url())
    automation.save_settings(history, project.id, every=7, settings={"strategy": "entropy"})
    hook = automation.register(gateway, project.id, URL, "s3cret")
    again = automation.register(gateway, project.id, URL, "s3cret")  # re-registering never duplicates
    state = automation.state(gateway, history, project.id, URL)
    assert [h.id for h in state.webhooks] == [again.id] and hook.id != again.id
    assert set(state.webhooks[0].actions) == set(WEBHOOK_ACTIONS)
    assert state.every == 7 and state.settings == {"strategy": "entropy"} and state.counted == 0
    assert automation.remove(gateway, project.id, URL) == 1
    assert automation.state(gateway, history, project.id, URL).webhooks == ()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="'every' parameter must be an int >= 1. Got 0"):
        automation.save_settings(History(db_url()), 1, every=0, settings={})
    with pytest.raises(ConfigError, match="No webhook secret"):
        automation.register(None, 1, URL, "")  # type: ignore[arg-type]
