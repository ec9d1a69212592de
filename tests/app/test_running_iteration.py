"""Every page and ``status`` read an iteration held mid-run, then one that failed (issue #15, item 5).

Pages and ``status`` once raised ``TypeError: int() argument must be ... not 'NoneType'`` while any iteration
ran. Here a real iteration against the real Label Studio is held at its train step (its progress callback
waits on an event) while every page runs in AppTest and ``python -m al_core status`` runs in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from streamlit.testing.v1 import AppTest

from al_core import settings
from al_core.errors import ALError
from al_core.iteration import IterationResult, IterationSettings, run_iteration
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES, parse_label_config, prediction_result
from al_core.settings import PROJECT_ROOT, Connection
from al_core.store.history import History
from tests.app.test_app_pages import OPTIONAL_PAGES, PAGES, texts

MakeApp = Callable[..., AppTest]
HELD_AT = "train"
BANNER_PAGES = {"pages/home.py", "pages/active_learning.py", "pages/progress.py", "pages/automation.py"}
TEXTS = {
    "Positive": ["great service, thank you", "I love this phone", "excellent support team", "works perfectly well"],
    "Negative": ["terrible battery life", "the app keeps crashing", "awful customer service", "broken on arrival"],
}


def _status(project_id: int, label_studio: Connection, *flags: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": label_studio.api_key}
    return subprocess.run(
        [sys.executable, "-m", "al_core", "status", "--project", str(project_id), *flags],
        capture_output=True,
        text=True,
        cwd=str(PROJECT_ROOT),
        env=env,
        timeout=120,
    )


def _page(make_app: MakeApp, label_studio: Connection, project_id: int, page: str) -> AppTest:
    at = make_app(label_studio)
    at.query_params["project"] = str(project_id)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, (page, texts(at.exception))
    return at


def _plain(shown: list[str]) -> list[str]:
    return [s.replace("\\", "") for s in shown]  # the pages escape Markdown: compare the text a person reads


def _shown(at: AppTest) -> str:
    return " ".join(_plain(texts(at.info) + texts(at.warning) + texts(at.sidebar.info) + texts(at.error)))


@pytest.fixture
def project_id(gateway: Gateway, unique_title: str) -> int:
    """A sentiment project with 20 tasks, 8 of them labeled (two classes: a model trains)."""
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    rows = [{"text": t} for ts in TEXTS.values() for t in ts] + [{"text": f"a plain remark {i}"} for i in range(12)]
    gateway.import_tasks(project.id, [rows])
    spec = parse_label_config(TEMPLATES["sentiment"])
    gold = {t: label for label, ts in TEXTS.items() for t in ts}
    for task in gateway.list_tasks(project.id):
        if task.data["text"] in gold:
            gateway.create_annotation(task.id, prediction_result(spec, gold[task.data["text"]]))
    return project.id


@pytest.fixture
def held(gateway: Gateway, project_id: int) -> Iterator[tuple[threading.Event, list[IterationResult | BaseException]]]:
    """A webhook-triggered iteration, running in a thread, held at its train step until the event is set."""
    reached, release = threading.Event(), threading.Event()
    outcome: list[IterationResult | BaseException] = []

    def hold(step: str, fraction: float, _message: str) -> None:
        if step == HELD_AT and fraction == 0.0:  # the step is recorded before this callback runs
            reached.set()
            release.wait(300)

    def run() -> None:
        try:
            chosen = IterationSettings(model="tfidf-logreg", upload_top=5, eval_size=0, trigger="webhook")
            history = History(settings.db_url(), server=gateway.url)
            outcome.append(
                run_iteration(gateway, history, project_id, chosen, on_progress=hold, owner="the webhook receiver")
            )
        except BaseException as err:  # noqa: BLE001 - handed to the test, which fails with it
            outcome.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert reached.wait(240), f"the iteration never reached its {HELD_AT} step: {outcome}"
        yield release, outcome
    finally:
        release.set()
        thread.join(300)


def test_every_page_and_status_read_an_iteration_held_mid_run(
    make_app: MakeApp, label_studio: Connection, project_id: int, held
) -> None:
    release, outcome = held
    for page in PAGES + OPTIONAL_PAGES:
        at = _page(make_app, label_studio, project_id, page)
        (note,) = [i for i in _plain(texts(at.sidebar.info)) if "running since" in i]  # every page's sidebar
        assert "al-0001-n8 running since" in note and f"step: {HELD_AT}, started by the webhook receiver" in note
        if page in BANNER_PAGES:
            banners = [i for i in _plain(texts(at.main.info)) if "al-0001-n8 running since" in i]
            assert banners, f"{page} shows the running iteration: {_shown(at)}"
    history_rows = _page(make_app, label_studio, project_id, "pages/active_learning.py").dataframe[0].value
    assert history_rows["status"][0] == "running" and history_rows["error"][0].endswith(f"step {HELD_AT}")

    text = _status(project_id, label_studio)
    assert text.returncode == 0, text.stderr
    (line,) = [ln for ln in text.stdout.splitlines() if ln.startswith("Running: ")]
    assert "al-0001-n8 running since" in line and f"step: {HELD_AT}, started by the webhook receiver" in line
    as_json = _status(project_id, label_studio, "--json")
    assert as_json.returncode == 0, as_json.stderr
    payload = json.loads(as_json.stdout)
    (running,) = payload["iterations"]
    assert (running["model_version"], running["status"], running["step"]) == ("al-0001-n8", "running", HELD_AT)
    assert running["n_labeled"] is None and running["finished_at"] is None, "counts are written when it ends"
    assert payload["activity"][0]["kind"] == "running" and payload["run_lock"]["owner"] == "the webhook receiver"

    release.set()
    for _ in range(600):
        if outcome:
            break
        threading.Event().wait(0.5)
    assert outcome and isinstance(outcome[0], IterationResult), outcome
    assert outcome[0].status == "succeeded"


def test_every_page_and_status_show_a_failed_runs_error(
    make_app: MakeApp, label_studio: Connection, gateway: Gateway, project_id: int
) -> None:
    history = History(settings.db_url(), server=gateway.url)
    run_iteration(gateway, history, project_id, IterationSettings(model="tfidf-logreg", upload_top=5, eval_size=0))
    with pytest.raises(ALError) as failure:
        run_iteration(gateway, history, project_id, IterationSettings(model="tfidf-logreg", control="nope"))
    error = str(failure.value)
    assert "nope" in error
    escaped_start = error[:30]
    for page in PAGES + OPTIONAL_PAGES:
        at = _page(make_app, label_studio, project_id, page)
        if page in BANNER_PAGES:
            shown = _shown(at)
            assert "al-0002 failed" in shown or page == "pages/progress.py", (page, shown)
            assert escaped_start in shown, (page, shown)
    table = _page(make_app, label_studio, project_id, "pages/active_learning.py").dataframe[0].value
    assert (table["status"][0], table["error"][0]) == ("failed", error)

    text = _status(project_id, label_studio)
    assert text.returncode == 0, text.stderr
    assert any(ln.startswith("Failed: al-0002 failed at") and error in ln for ln in text.stdout.splitlines())
    payload = json.loads(_status(project_id, label_studio, "--json").stdout)
    assert payload["iterations"][-1]["error"] == error and payload["activity"][-1]["kind"] == "failed"
    assert payload["run_lock"] is None
