"""AppTest of the Automation page against the real Label Studio."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from al_core import settings
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.settings import PROJECT_ROOT
from al_core.store.history import History


def _app(label_studio, monkeypatch, project_id: int) -> AppTest:
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    monkeypatch.setenv("AL_WEBHOOK_URL", "http://127.0.0.1:8765/webhook")
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params["project"] = str(project_id)
    at.run()
    at.switch_page("pages/automation.py").run()
    assert not at.exception
    return at


def test_register_save_and_remove(label_studio, gateway: Gateway, unique_title: str, monkeypatch) -> None:
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    at = _app(label_studio, monkeypatch, project.id)
    assert any("Not registered" in i.value for i in at.info)
    assert [c.value for c in at.code] == ["http://127.0.0.1:8765/webhook"]  # as typed, no markdown escapes
    assert any("Register the webhook, then label tasks" in i.value for i in at.info)
    at.button(key="w_auto_register").click().run()
    assert not at.exception
    hooks = gateway.list_webhooks(project.id)
    assert [h.url for h in hooks] == [settings.webhook_url()]
    assert any("Registered on project" in s.value for s in at.success)
    assert not any("Register the webhook" in i.value for i in at.info)  # registered: no advice to register
    assert any("No automatic run yet. Label tasks" in i.value for i in at.info)

    at.number_input(key="w_auto_every").set_value(3)
    at.selectbox(key="w_auto_strategy").set_value("entropy")
    at.text_input(key="w_auto_dask_scheduler").set_value("tcp://10.0.0.5:8786")
    at.button(key="w_auto_save").click().run()
    assert not at.exception
    saved = History(settings.db_url(), server=label_studio.url).automation(project.id)
    assert saved.every == 3 and saved.settings["strategy"] == "entropy"
    assert set(saved.settings) == {"model", "strategy", "diversity", "upload_top", "eval_size", "dask_scheduler"}
    assert saved.settings["dask_scheduler"] == "tcp://10.0.0.5:8786", "stored where the receiver reads its settings"
    assert at.selectbox(key="w_auto_strategy").value == "entropy", "read back from the stored settings"
    assert "w_auto_control" not in {box.key for box in at.selectbox}, "one <Choices>: nothing to choose"

    at.button(key="w_auto_remove").click().run()
    assert not at.exception and gateway.list_webhooks(project.id) == []


def test_under_make_run_a_new_project_is_automated(
    label_studio, gateway: Gateway, unique_title: str, monkeypatch
) -> None:
    """``make run`` sets AL_LOCAL_SERVER=1: projects created in the dashboard get the receiver's webhook."""
    monkeypatch.setenv("AL_LOCAL_SERVER", "1")
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    monkeypatch.setenv("AL_WEBHOOK_URL", "http://127.0.0.1:8765/webhook")
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/project.py").run()
    at.text_input(key="w_new_title").set_value(unique_title).run()
    at.button(key="w_create_project").click().run()
    assert not at.exception
    project = next(p for p in gateway.list_projects() if p.title == unique_title)
    assert [h.url for h in gateway.list_webhooks(project.id)] == ["http://127.0.0.1:8765/webhook"]
    assert any("Automatic iterations are on" in i.value for i in at.info)


def test_the_page_explains_a_burst_with_the_receivers_own_numbers(monkeypatch) -> None:
    from al_core.automation import receiver

    fields = receiver.Receiver.__dataclass_fields__
    assert (fields["quiet_seconds"].default, fields["max_wait"].default) == (5.0, 120.0)
    assert (receiver.QUIET_SECONDS, receiver.MAX_WAIT_SECONDS) == (5.0, 120.0)
    monkeypatch.setattr(receiver, "QUIET_SECONDS", 7.0)  # the page reads the receiver's constants, not copies
    monkeypatch.setattr(receiver, "MAX_WAIT_SECONDS", 180.0)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/automation.py").run()
    assert not at.exception
    (note,) = [c.value for c in at.caption if "burst" in c.value]
    assert "waits until 7 seconds pass without a new one (at the latest 3 min after the N-th)" in note


def test_the_choices_to_learn_is_asked_for_and_stored_for_automatic_runs(
    label_studio, two_choices_project: int, monkeypatch
) -> None:
    """Issue #19 D1: with two <Choices> over the text, automatic runs need to know which one to learn."""
    at = _app(label_studio, monkeypatch, two_choices_project)
    assert any("several <Choices>" in w.value and "automatic runs fail" in w.value for w in at.warning)
    assert at.selectbox(key="w_auto_control").options == ["topic", "subtopic"]
    at.selectbox(key="w_auto_control").set_value("subtopic")
    at.checkbox(key="w_auto_diversity").uncheck()
    at.number_input(key="w_auto_eval_size").set_value(5)
    at.button(key="w_auto_save").click().run()
    assert not at.exception and not at.error
    saved = History(settings.db_url(), server=label_studio.url).automation(two_choices_project)
    assert saved is not None and saved.settings["control"] == "subtopic"
    assert (saved.settings["diversity"], saved.settings["eval_size"]) == (False, 5)
    at.run()
    assert not any("several <Choices>" in w.value for w in at.warning)
    assert at.selectbox(key="w_auto_control").value == "subtopic"
