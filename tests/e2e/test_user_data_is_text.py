"""HTML and <script> in user data are shown as text and never run, in a real browser (Debian's chromium).

A project title, a label, task texts, a CSV's column names and cells, and an upload's error message carry
markup that sets ``window.__xss``; every page that shows them is visited, the literal text must be visible
and ``window.__xss`` must stay undefined. (Task texts appear only in the upload preview, a canvas table: drawn,
never parsed as HTML.) Waits are on Streamlit being idle and on the expected text; the only pause is a
0.2 s grace for an ``onerror`` to fire.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator

import pytest

from al_core.iteration import IterationSettings, run_iteration
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import build_config, parse_label_config, prediction_result
from al_core.settings import Connection, db_url
from al_core.store.history import History
from tests.e2e.browser import browser_page, dashboard

TIMEOUT_MS = 60_000
IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
TITLE = f"{IMG} reviews"  # Label Studio caps titles at 50 characters
LABEL = '<b onmouseover="window.__xss=1">bold</b>'
TEXTS = [IMG, SCRIPT, '<a href="javascript:window.__xss=1">click me</a>']

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app_url(label_studio: Connection) -> Iterator[str]:
    """The dashboard, already connected through the environment like `make run` (no typing needed)."""
    with dashboard(
        {**os.environ, "LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": label_studio.api_key}
    ) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url: str):
    with browser_page(TIMEOUT_MS) as pg:
        yield pg


@pytest.fixture(scope="module")
def project_id(gateway: Gateway) -> int:
    """A project whose title, a label and some texts are markup; 6 annotations so an iteration trains a model."""
    project = gateway.create_project(TITLE, build_config(["fine", LABEL], control_name="label"))
    benign = [f"review number {i}" for i in range(8)]
    gateway.import_tasks(project.id, [[{"data": {"text": t}} for t in TEXTS + benign]])
    spec = parse_label_config(gateway.get_project(project.id).label_config)
    assert LABEL in spec.labels, "the label survives Label Studio's config validation as text"
    for i, task in enumerate(t for t in gateway.list_tasks(project.id) if t.data["text"] in benign[:6]):
        gateway.create_annotation(task.id, prediction_result(spec, LABEL if i % 2 else "fine"))
    # One iteration (the dashboard shares this history): its pages then show the label in tables and charts.
    run_iteration(
        gateway, History(db_url(), server=gateway.url), project.id, IterationSettings(upload_top=50, eval_size=2)
    )
    return project.id


def _settle(page) -> None:
    """Wait until Streamlit has finished running the page script (no status widget, state notRunning)."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(state="attached")
    page.get_by_test_id("stStatusWidget").wait_for(state="detached")


def _shows_as_text(page, *texts: str) -> None:
    from playwright.sync_api import expect

    for text in texts:
        expect(page.get_by_test_id("stMain").get_by_text(text, exact=False).first).to_be_visible(timeout=TIMEOUT_MS)
    _settle(page)
    page.wait_for_timeout(200)  # an <img onerror> would fire on the failed load, just after rendering
    assert page.evaluate("typeof window.__xss") == "undefined", page.url
    assert page.locator('[data-testid="stApp"] script, img[src="x"]').count() == 0


def _visit(page, app_url: str, path: str, project: int) -> None:
    page.goto(f"{app_url}/{path}?project={project}")
    _settle(page)


def test_markup_in_user_data_is_shown_as_text_and_never_runs(page, app_url: str, project_id: int, tmp_path) -> None:
    from playwright.sync_api import expect

    page.set_content(f"<body>{IMG}</body>")  # the probe itself: this browser runs the markup when it is HTML
    page.wait_for_function("window.__xss === 1")

    _visit(page, app_url, "", project_id)
    _shows_as_text(page, f"{TITLE} (#{project_id})")  # Home's current project
    selector = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Current project")
    expect(selector).to_have_value(f"{TITLE} (#{project_id})")  # an input's value: text by construction

    _visit(page, app_url, "project", project_id)
    _shows_as_text(page, f"Working on {TITLE}")
    upload = tmp_path / "hostile.csv"
    with upload.open("w", newline="") as f:
        csv.writer(f).writerows([["text", IMG], [SCRIPT, "1"], [IMG, "2"]])
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
    page.get_by_role("button", name="Import").wait_for()
    _shows_as_text(page, "hostile.csv")  # the preview (a canvas table) and the column choice
    page.get_by_test_id("stSelectbox").filter(has_text="Column holding the text").click()
    expect(page.get_by_role("option", name=IMG)).to_be_visible(timeout=TIMEOUT_MS)  # a column name, as an option
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Import").click()
    _shows_as_text(page, "Imported 2 tasks from hostile.csv")
    bad = tmp_path / "bad.json"
    bad.write_text('[{"text": "a"}, ["<img src=x onerror=window.__xss=1>"]]')
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(bad))
    _shows_as_text(page, 'item 2 is ["<img src=x onerror=window.__xss=1>"]')  # an error quoting the file

    _visit(page, app_url, "active_learning", project_id)
    _shows_as_text(page, f"{TITLE} (#{project_id}): ", "serving al-0001-n")

    _visit(page, app_url, "progress", project_id)
    page.locator(".js-plotly-plot").first.wait_for()
    _shows_as_text(page, "Learning curve")
