"""AppTest of every page: empty states without a connection, then the flows a person clicks through
against the real Label Studio server (started once per test session by tests/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from al_core.lab.sample import GoldAnnotator, sample_gold
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.learning import models
from al_core.settings import Connection
from ui import state
from ui.common import md

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    "pages/home.py",
    "pages/connect.py",
    "pages/project.py",
    "pages/active_learning.py",
    "pages/progress.py",
    "pages/label_issues.py",
]
OPTIONAL_PAGES = [p for p in ("pages/strategy_lab.py", "pages/automation.py") if (ROOT / p).is_file()]
MakeApp = Callable[..., AppTest]


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, texts(at.exception)
    return at


# -- without a connection ------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES + OPTIONAL_PAGES)
def test_every_page_renders_without_a_connection(make_app: MakeApp, page: str) -> None:
    at = make_app().run()
    assert not at.exception, texts(at.exception)
    open_page(at, page)
    assert any("Not connected" in c for c in texts(at.sidebar.caption))
    if page != "pages/connect.py":
        assert any(link.proto.page.endswith("connect") for link in at.main.get("page_link")), "a link to Connect"


def test_navigation_lists_optional_pages_only_when_they_exist(make_app: MakeApp) -> None:
    at = make_app().run()
    registered = {Path(str(info["script_path"])).name for info in at._registered_pages.values()}
    expected = {Path(p).name for p in PAGES + OPTIONAL_PAGES}
    assert registered == expected


def test_team_mode_never_uses_the_configured_key(
    make_app: MakeApp, label_studio: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    at = make_app().run()
    assert at.session_state[state.CONNECTION] is not None, "without team mode the configured key connects"

    monkeypatch.setenv("AL_TEAM_MODE", "1")
    at = make_app().run()
    assert at.session_state[state.CONNECTION] is None
    open_page(at, "pages/connect.py")
    assert at.text_input(key=state.W_CONNECT_URL).value == label_studio.url
    assert at.text_input(key=state.W_CONNECT_KEY).value == ""
    assert any("Team mode" in i for i in texts(at.info))


# -- connecting ------------------------------------------------------------------------------------------
def test_a_wrong_key_shows_a_clear_error(make_app: MakeApp, label_studio: Connection) -> None:
    at = open_page(make_app().run(), "pages/connect.py")
    at.text_input(key=state.W_CONNECT_URL).set_value(label_studio.url)
    at.text_input(key=state.W_CONNECT_KEY).set_value("not-the-key-0000")
    at.button(key=state.W_CONNECT_SUBMIT).click().run()
    assert not at.exception, texts(at.exception)
    assert len(at.error) == 1 and "refused the API key" in at.error[0].value
    assert at.session_state[state.CONNECTION] is None
    shown = " ".join(texts(at.error) + texts(at.markdown) + texts(at.caption) + texts(at.success))
    assert "not-the-key-0000" not in shown


def test_a_pasted_url_and_key_connect_as_meant(make_app: MakeApp, label_studio: Connection) -> None:
    """Copied with a trailing slash and spaces, the key with the ``Token`` of its HTTP header: what is meant."""
    at = open_page(make_app().run(), "pages/connect.py")
    at.text_input(key=state.W_CONNECT_URL).set_value(f"  {label_studio.url}/projects/ ")
    at.text_input(key=state.W_CONNECT_KEY).set_value(f" Token {label_studio.api_key}\n")
    at.button(key=state.W_CONNECT_SUBMIT).click().run()
    assert not at.exception and not at.error, texts(at.error)
    connected = at.session_state[state.CONNECTION]
    assert (connected.url, connected.api_key) == (label_studio.url, label_studio.api_key)


# -- the whole flow ------------------------------------------------------------------------------------------
def test_connect_create_import_sample_and_iterate(
    make_app: MakeApp, label_studio: Connection, gateway: Gateway, unique_title: str
) -> None:
    at = open_page(make_app().run(), "pages/connect.py")
    at.text_input(key=state.W_CONNECT_URL).set_value(label_studio.url)
    at.text_input(key=state.W_CONNECT_KEY).set_value(label_studio.api_key)
    at.button(key=state.W_CONNECT_SUBMIT).click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert any("Connected to" in c for c in texts(at.sidebar.caption))
    assert label_studio.api_key not in " ".join(texts(at.markdown) + texts(at.success) + texts(at.caption))

    open_page(at, "pages/project.py")
    at.text_input(key=state.W_NEW_TITLE).set_value(unique_title)
    at.selectbox(key=state.W_NEW_TEMPLATE).set_value("intent").run()
    assert "15 labels" in " ".join(texts(at.markdown)), "the preview of what was understood"
    at.button(key=state.W_CREATE).click().run()
    assert not at.exception and not at.error, texts(at.error)
    project_id = at.session_state[state.PROJECT_ID]
    assert gateway.get_project(project_id).title == unique_title
    assert at.query_params["project"] == str(project_id)

    at.button(key=state.W_SAMPLE_IMPORT).click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert gateway.get_project(project_id).task_number == len(sample_gold())

    open_page(at, "pages/active_learning.py")
    assert at.selectbox(key=state.W_STRATEGY).value == "margin"
    assert at.number_input(key=state.W_UPLOAD_TOP).value == 1000
    assert at.number_input(key=state.W_EVAL_SIZE).value == 225, "about 10% of the tasks"
    at.number_input(key=state.W_EVAL_SIZE).set_value(50)
    at.number_input(key=state.W_UPLOAD_TOP).set_value(100)  # small uploads keep the test fast
    at.button(key=state.W_RUN).click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert any("Cold start" in i for i in texts(at.info))
    shown = {m.label: m.value for m in at.metric}
    assert shown["Evaluation set"] == "50 tasks", "fixed by the first iteration"
    assert shown["Labeled (training)"] == "0" and shown["Predictions uploaded"] != "0"
    assert len(_history_rows(at)) == 1
    link = at.main.get("link_button")[0]
    view = gateway.queue_view(project_id)  # the tab the iteration made (found again, not created)
    assert link.proto.url == f"{label_studio.url}/projects/{project_id}/data?tab={view}&labeling=1"

    at.checkbox(key=state.W_UPLOAD_ALL).check().run()
    assert at.number_input(key=state.W_UPLOAD_TOP).proto.disabled, "every task: the count no longer applies"
    at.checkbox(key=state.W_UPLOAD_ALL).uncheck().run()

    GoldAnnotator(gateway, project_id, sample_gold().get).label(20)
    at.button(key=state.W_RUN).click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert any(f"Trained {models.default_model()}" in s for s in texts(at.success))
    first, second = (it for it in _history_rows(at))
    assert (second["status"], first["status"]) == ("succeeded", "succeeded")
    assert first["labels"] > 0 and first["accuracy"] is not None
    low, high = (int(x.rstrip("%")) / 100 for x in first["accuracy 95% interval"].split("-"))
    assert low - 0.005 <= first["accuracy"] <= high + 0.005, "shown in whole points"
    assert first["evaluation labels"] > 0, "every accuracy with its n and interval"
    shown = {m.label: m.value for m in at.metric}
    assert shown["Accuracy"].endswith("%") and shown["Macro-F1"].endswith("%"), "measured on the evaluation set"

    at.button(key=state.W_RUN).click().run()  # no label changed since: nothing to do, and it says so
    assert not at.exception and not at.error, texts(at.error)
    assert any(f"no new labels since {first['version']}" in i for i in texts(at.info))
    assert len(_history_rows(at)) == 2, "no phantom version"
    assert at.main.get("link_button")[0].proto.url.endswith(f"?tab={view}&labeling=1")
    at.button(key=state.W_RUN_FORCE).click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert len(_history_rows(at)) == 3 and any(f"Trained {models.default_model()}" in s for s in texts(at.success))

    older = second["version"]
    at.button(key=state.W_ROLLBACK_PREFIX + older).click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert gateway.get_project(project_id).model_version == older


def test_import_a_csv_file(make_app: MakeApp, label_studio: Connection, gateway: Gateway, unique_title: str) -> None:
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    at = make_app(label_studio)
    at.query_params["project"] = str(project.id)
    open_page(at.run(), "pages/project.py")
    csv = b"id,review\n1,Great phone\n2,\n3,Great phone\n4,Battery died\n5,Fine I guess\n"
    at.file_uploader[0].set_value(("reviews.csv", csv, "text/csv")).run()
    assert not at.exception and not at.error, texts(at.error)
    assert at.selectbox(key=state.W_TEXT_COLUMN).value == "review"
    assert len(at.dataframe[-1].value) == 5, "the preview table"
    at.button(key=state.W_IMPORT).click().run()
    assert not at.exception and not at.error, texts(at.error)
    shown = {m.label: m.value for m in at.metric}
    assert shown == {"Rows read": "5", "Empty": "1", "Duplicates": "1", "Imported": "3"}
    assert gateway.get_project(project.id).task_number == 3
    assert at.file_uploader[0].value is None, "the uploader is emptied: no second import by accident"
    assert state.W_IMPORT not in [b.key for b in at.button]


def test_import_label_studio_tasks_says_what_was_created_and_left_out(
    make_app: MakeApp, label_studio: Connection, gateway: Gateway, unique_title: str
) -> None:
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    at = make_app(label_studio)
    at.query_params["project"] = str(project.id)
    open_page(at.run(), "pages/project.py")
    positive = [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}]
    tasks = [
        {"data": {"text": "Great phone"}, "annotations": [{"result": positive, "completed_by": 12}],
         "predictions": [{"result": positive, "score": 0.9, "model_version": "elsewhere"}]},
        {"data": {"text": "Great phone"}, "annotations": [{"result": positive}]},
        {"data": {"text": "Battery died"}},
    ]  # fmt: skip
    at.file_uploader[0].set_value(("export.json", json.dumps(tasks).encode(), "application/json")).run()
    at.button(key=state.W_IMPORT).click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert "Created 2 tasks with 1 annotations and 1 predictions from 3 rows." in texts(at.caption)
    assert texts(at.warning) == [
        "1 row repeating an earlier text left out.",
        "1 annotation on rows repeating an earlier text left out.",
        "1 annotation names an annotator of another server: counted as made by you (the key's user).",
    ]
    assert gateway.get_project(project.id).task_number == 2 and len(gateway.labeled_tasks(project.id)) == 1


# -- deep links and the current project ----------------------------------------------------------------------
def test_a_deep_link_selects_the_project_on_any_page(
    make_app: MakeApp, label_studio: Connection, gateway: Gateway, unique_title: str
) -> None:
    project = gateway.create_project(unique_title, TEMPLATES["topic"])
    at = make_app(label_studio)
    at.query_params["project"] = str(project.id)
    at.query_params["version"] = "al-0001-n0"
    at.run()
    assert not at.exception, texts(at.exception)
    assert at.session_state[state.PROJECT_ID] == project.id
    assert at.selectbox(key=state.W_SIDEBAR_PROJECT).value == project.id
    assert at.query_params == {"project": str(project.id), "version": "al-0001-n0"}
    assert any(md(project.title) in m for m in texts(at.markdown)), "Home shows the project"
    shown = {m.label: m.value for m in at.metric}
    assert shown == {"Tasks": "0", "Labeled": "0", "Evaluation set": "not drawn yet", "Model version": "none yet"}

    open_page(at, "pages/active_learning.py")
    assert at.session_state[state.PROJECT_ID] == project.id
    assert at.query_params["project"] == str(project.id), "the URL keeps the project across pages"
    assert any("no tasks yet" in i for i in texts(at.info))


def test_an_unknown_project_in_the_link_is_explained(make_app: MakeApp, label_studio: Connection) -> None:
    at = make_app(label_studio)
    at.query_params["project"] = "999999"
    at.run()
    assert not at.exception, texts(at.exception)
    assert any("999999 does not exist" in w for w in texts(at.sidebar.warning))


def test_the_only_project_is_selected_automatically() -> None:
    def app() -> None:
        from al_core.labelstudio.records import Project
        from ui import services, state

        state.init()
        services.settle_project([Project(7, "the only one", "")])

    at = AppTest.from_function(app).run()
    assert at.session_state[state.PROJECT_ID] == 7
    assert at.query_params == {"project": "7"}


def _history_rows(at: AppTest) -> list[dict]:
    frames = [d.value for d in at.dataframe if "trigger" in d.value.columns]
    assert frames, "the history table"
    return frames[0].to_dict("records")
