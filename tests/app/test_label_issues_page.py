"""The Label issues page against the real Label Studio: empty state, finding injected label errors with
links into Label Studio, and "Mark reviewed" hiding a task (stored for every teammate)."""

from __future__ import annotations

import pytest

from al_core import settings as app_settings
from al_core.labelstudio.gateway import Gateway
from al_core.store import reviews
from al_core.store.history import History
from tests.label_noise import noisy_project

PAGE = "pages/label_issues.py"


def test_the_page_finds_label_errors_and_hides_reviewed_ones(
    make_app, label_studio, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AL_MODEL", "tfidf-logreg")
    project_id, flipped = noisy_project(gateway, "label issues page", per_class=16, n_flipped=8)
    at = make_app(label_studio)
    at.query_params["project"] = str(project_id)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("Find likely label errors" in i.value for i in at.info)  # the empty state says what to do

    at.button(key="w_issues_find").click().run()
    assert not at.exception
    found = at.session_state["al_label_issues"][(label_studio.url, project_id)]
    assert found.issues and sum(i.task_id in flipped for i in found.issues[:8]) >= 4
    first = found.issues[0]
    buttons = [b.key for b in at.button if b.key and b.key.startswith("w_issues_reviewed_")]
    assert buttons[: len(found.issues)] == [f"w_issues_reviewed_{i.task_id}" for i in found.issues[:25]]
    assert any(f"{len(found.issues)} likely label errors" in c.value for c in at.caption)
    links = [e.proto.url for e in at.get("link_button")]
    assert f"{label_studio.url}/projects/{project_id}/data?task={first.task_id}" in links

    at.button(key=f"w_issues_reviewed_{first.task_id}").click().run()
    assert not at.exception
    assert f"w_issues_reviewed_{first.task_id}" not in [b.key for b in at.button]
    assert any(f"Task {first.task_id} marked as reviewed" in s.value for s in at.success)
    stored = reviews.reviews(History(app_settings.db_url(), server=label_studio.url), project_id)
    assert stored[first.task_id].label == first.given and stored[first.task_id].reviewed_by == "admin"
    assert any("1 reviewed ones hidden" in c.value for c in at.caption)

    at.button(key="w_issues_agreement").click().run()  # every task has one annotation: the empty state says why
    assert not at.exception
    assert any("No task has two annotations yet (" in i.value and "overlap" in i.value for i in at.info)
