"""End to end in a real browser: Debian's chromium driven by Playwright (no browser download).

Walks what a person does: connect -> create a project -> import the sample -> (annotations through the
API, standing in for annotators) -> run an iteration -> the Progress page shows its charts. Screenshots
of each page go to the git-ignored ``artifacts/e2e/``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from al_core.lab.sample import GoldAnnotator, sample_gold
from al_core.labelstudio.gateway import Gateway
from al_core.settings import PROJECT_ROOT
from tests.e2e.browser import browser_page, dashboard

SHOTS = PROJECT_ROOT / "artifacts" / "e2e"
TIMEOUT_MS = 120_000

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """The dashboard, started like `make run` does, with no configured connection (the user connects)."""
    with dashboard({k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url: str):
    with browser_page(TIMEOUT_MS) as pg:
        yield pg


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.wait_for_load_state("networkidle")


def test_a_person_goes_from_connect_to_progress_charts(page, app_url: str, label_studio, gateway: Gateway) -> None:
    page.goto(app_url)
    page.get_by_text("Active learning for Label Studio").first.wait_for()
    _shot(page, "01-home")

    _nav(page, "Connect")
    page.get_by_role("textbox", name="Label Studio URL").fill(label_studio.url)
    page.get_by_role("textbox", name="API key").fill(label_studio.api_key)
    page.get_by_role("button", name="Check connection").click()
    page.get_by_text("Connected to").first.wait_for()
    html = page.content()
    at = html.find(label_studio.api_key)
    assert at < 0, html[max(0, at - 300) : at + 60]  # the key is never echoed
    _shot(page, "02-connected")

    _nav(page, "Project")
    title = f"e2e banking {int(time.time())}"
    page.get_by_role("textbox", name="Title").fill(title)
    page.get_by_role("textbox", name="Title").press("Enter")
    page.get_by_test_id("stSelectbox").filter(has_text="Labeling config").click()
    page.get_by_role("option", name="Banking intent (15)").click()
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("button", name="Import the sample dataset").click()
    page.get_by_text("Imported 2,250 sample texts").wait_for()
    _shot(page, "03-project")

    project = next(p for p in gateway.list_projects() if p.title == title)
    assert gateway.get_project(project.id).task_number == 2250
    GoldAnnotator(gateway, project.id, sample_gold().get).label(40)  # annotators, through the API

    _nav(page, "Active learning")
    page.get_by_role("button", name="Run iteration").click()
    page.get_by_text("Result of al-0001-n").first.wait_for()
    assert gateway.get_project(project.id).model_version.startswith("al-0001-n")
    _shot(page, "04-iteration")

    _nav(page, "Progress")
    page.get_by_text("Learning curve").first.wait_for()
    page.locator(".js-plotly-plot").nth(4).wait_for()
    assert page.locator(".js-plotly-plot").count() >= 5
    assert "accuracy" in page.inner_text("body").lower()
    _shot(page, "05-progress")
