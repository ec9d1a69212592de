"""The link the dashboard gives annotators serves the active-learning queue (lowest score first), in a real
browser logged into the real Label Studio: for a fresh browser and for one that clicked "Label All Tasks" before."""

from __future__ import annotations

import pytest

from al_core import settings as app_settings
from al_core.iteration import IterationSettings, run_iteration
from al_core.lab.sample import GoldAnnotator, sample_gold, sample_rows
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.labelstudio.local_server import LocalServer, load_or_create_credentials
from al_core.store.history import History
from tests.e2e.browser import browser_page
from tests.ls_users import sign_up

pytestmark = pytest.mark.e2e


def _admin_password(server: LocalServer) -> str:
    url = server.connection.url
    return load_or_create_credentials(server.log_path.parent.parent, int(url.rsplit(":", 1)[1]))[1]


def _login(page, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/user/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/user/login" not in u)


def _first_served(page, link: str) -> tuple[int, str]:
    """Open ``link`` and return the task the label stream serves first, with Label Studio's name for its queue."""
    with page.expect_response(lambda r: "/api/dm/actions" in r.url and "next_task" in r.url) as served:
        page.goto(link)
    body = served.value.json()
    return int(body["id"]), str(body.get("queue", ""))


def test_the_dashboards_link_serves_the_lowest_scored_task_first(label_studio_server, gateway: Gateway) -> None:
    project = gateway.create_project("queue link test", TEMPLATES["intent"])
    rows = sample_rows()[:300]
    gateway.import_tasks(project.id, [[{"text": text} for text, _ in rows]])
    GoldAnnotator(gateway, project.id, sample_gold().get).label(40)
    settings = IterationSettings(model="tfidf-logreg", upload_top=0, diversity=False)
    done = run_iteration(gateway, History(app_settings.db_url(), server=gateway.url), project.id, settings)

    labeled = {t.id for t in gateway.labeled_tasks(project.id)}
    scores = {
        p.task: p.score for p in gateway.list_predictions(project.id, done.model_version) if p.task not in labeled
    }
    lowest = min(scores, key=scores.get)
    view = gateway.queue_view(project.id)
    assert gateway.queue_view(project.id) == view  # found again, not created twice
    link = gateway.labeling_url(project.id, view)
    assert link == f"{gateway.url}/projects/{project.id}/data?tab={view}&labeling=1"

    url = label_studio_server.connection.url
    with browser_page(60_000) as page:
        _login(page, url, "admin@localhost.local", _admin_password(label_studio_server))
        first, queue = _first_served(page, link)  # a fresh browser: Label Studio's data-manager queue
        assert first == lowest, (first, scores.get(first), lowest, scores[lowest], queue)

    # A browser that clicked "Label All Tasks" once keeps that mode: the project's uncertainty sampling serves
    # then, and it must agree. Another annotator, since the admin now holds the lowest task's lock.
    member = sign_up(url, label_studio_server.connection.api_key)
    with browser_page(60_000) as page:
        _login(page, url, member.email, member.password)
        page.evaluate("localStorage.setItem('dm:labelstream:mode', 'all')")
        second, queue = _first_served(page, link)
    assert "Active learning" in queue, queue
    assert second == sorted(scores, key=scores.get)[1], (second, scores.get(second))
