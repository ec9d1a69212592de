"""Registering and removing the receiver's webhook in the real Label Studio; the settings stored for automatic
runs (every setting of the Active learning page, the <Choices> to learn included) are the ones the receiver runs."""

from __future__ import annotations

import time

import pytest

from al_core.automation import registration as automation
from al_core.automation.receiver import Receiver
from al_core.errors import ConfigError, LabelConfigError
from al_core.labelstudio.gateway import WEBHOOK_ACTIONS, Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.settings import db_url, server_slug
from al_core.store.history import History

URL = "http://127.0.0.1:8765/webhook"


def test_register_state_and_remove(gateway: Gateway, unique_title: str) -> None:
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    history = History(db_url(), server=gateway.url)
    automation.save_settings(history, project.id, every=7, settings={"strategy": "entropy"})
    hook = automation.register(gateway, project.id, URL, "s3cret")
    again = automation.register(gateway, project.id, URL, "s3cret")  # re-registering never duplicates
    state = automation.state(gateway, history, project.id, URL)
    assert [h.id for h in state.webhooks] == [again.id] and hook.id != again.id
    assert set(state.webhooks[0].actions) == set(WEBHOOK_ACTIONS)
    assert state.every == 7 and state.settings == {"strategy": "entropy"} and state.counted == 0
    headers = gateway._raw("GET", f"api/webhooks/{again.id}", "reading the webhook")["headers"]
    assert headers == {"X-AL-Secret": "s3cret", "X-AL-Server": server_slug(gateway.url)}, "the server it serves"
    assert automation.remove(gateway, project.id, URL) == 1
    assert automation.state(gateway, history, project.id, URL).webhooks == ()


def test_bad_settings_are_refused(gateway: Gateway) -> None:
    with pytest.raises(ConfigError, match=r"'every' parameter must be an int in \[1, inf\). Got 0"):
        automation.save_settings(History(db_url(), server=gateway.url), 1, every=0, settings={})
    with pytest.raises(ConfigError, match="No webhook secret"):
        automation.register(None, 1, URL, "")  # type: ignore[arg-type]


def test_the_receiver_runs_with_the_stored_choices_and_settings(
    label_studio, gateway: Gateway, two_choices_project: int
) -> None:
    """Issue #19 D1 for automatic runs: the <Choices> chosen for them (and every other stored setting) is used."""
    history = History(db_url(), server=gateway.url)
    project = gateway.get_project(two_choices_project)
    assert automation.needs_control(project, {}) == ["topic", "subtopic"]
    with pytest.raises(LabelConfigError, match='There is no <Choices name="Topic">'):
        automation.update_settings(history, project, every=None, chosen={"control": "Topic"})
    with pytest.raises(ConfigError, match="The 'upload_top' parameter must be an int"):
        automation.update_settings(history, project, every=None, chosen={"upload_top": -5})
    chosen = {"control": "topic", "model": "tfidf-logreg", "diversity": False, "upload_top": 0, "eval_size": 6}
    automation.update_settings(history, project, every=2, chosen=chosen)
    assert automation.needs_control(project, history.automation(project.id).settings) == []  # type: ignore[union-attr]

    connect = lambda: Gateway(label_studio.url, label_studio.api_key)  # noqa: E731
    receiver = Receiver(history, connect, "s3cret", quiet_seconds=0.2, prune=False)
    for annotation_id in (9001, 9002):  # the N-th annotation starts a run in the background
        receiver.handle(
            {"action": "ANNOTATION_CREATED", "project": {"id": project.id}, "annotation": {"id": annotation_id}}
        )
    deadline = time.monotonic() + 180
    while not history.events(project.id, "trigger") and time.monotonic() < deadline:
        time.sleep(0.5)
    (trigger,) = history.events(project.id, "trigger")
    assert trigger.detail["outcome"] == "succeeded", trigger.detail
    record = history.get_iteration(project.id, trigger.detail["model_version"])
    assert record is not None and record.trigger == "webhook"
    assert (record.settings.control, record.settings.diversity, record.settings.upload_top) == ("topic", False, 0)
    assert record.metrics.labels == ("billing", "card") and len(history.eval_set(project.id)) == 6
    predictions = gateway.list_predictions(project.id, record.model_version)
    assert {r["from_name"] for p in predictions for r in p.result} == {"topic"}
