"""The Label issues page against the real Label Studio: empty state, finding injected label errors with
links into Label Studio, "Mark reviewed" hiding a task (stored for every teammate), "Show reviewed" and "Unmark"
bringing it back; annotators shown by the names the server knows them by."""

from __future__ import annotations

import pytest

from al_core import settings as app_settings
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import build_config, parse_label_config, prediction_result
from al_core.store import reviews
from al_core.store.history import History
from tests.label_noise import noisy_project
from tests.ls_users import sign_up

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

    at.toggle(key="w_issues_show_reviewed").set_value(True).run()  # the reviewed task, to look again or unmark
    assert not at.exception and at.toggle(key="w_issues_show_reviewed").label == "Show reviewed (1)"
    assert any(c.value.startswith("Reviewed by admin on ") for c in at.caption)
    at.button(key=f"w_issues_unmark_{first.task_id}").click().run()
    assert not at.exception and any(f"Task {first.task_id} unmarked" in s.value for s in at.success)
    assert [b.key for b in at.button if b.key and b.key.startswith("w_issues_reviewed_")][0] == buttons[0]
    assert f"w_issues_unmark_{first.task_id}" not in [b.key for b in at.button]
    assert reviews.reviews(History(app_settings.db_url(), server=label_studio.url), project_id) == {}
    assert any("0 reviewed ones hidden" in c.value for c in at.caption)

    at.button(key="w_issues_agreement").click().run()  # every task has one annotation: the empty state says why
    assert not at.exception
    assert any("No task has two annotations yet (" in i.value and "overlap" in i.value for i in at.info)


def test_annotators_are_shown_by_email_not_user_id(make_app, label_studio, gateway: Gateway) -> None:
    config = build_config(("yes", "no"), control_name="answer")
    project = gateway.create_project("agreement page", config)
    gateway.import_tasks(project.id, [[{"data": {"text": f"question {i}"}} for i in range(4)]])
    tasks, spec = gateway.list_tasks(project.id), parse_label_config(config)
    users = [sign_up(label_studio.url, label_studio.api_key) for _ in range(2)]
    for user, answers in zip(users, (("yes", "yes", "no", "no"), ("yes", "no", "no", "no")), strict=True):
        person = Gateway(label_studio.url, user.token)
        for task, answer in zip(tasks, answers, strict=True):
            person.create_annotation(task.id, prediction_result(spec, answer))
    at = make_app(label_studio)
    at.query_params["project"] = str(project.id)
    at.run()
    at.switch_page(PAGE).run()
    at.button(key="w_issues_agreement").click().run()
    assert not at.exception
    annotators, pairs = at.dataframe[0].value, at.dataframe[1].value
    assert sorted(annotators["annotator"]) == sorted(u.email for u in users)
    assert {pairs["annotator"][0], pairs["other annotator"][0]} == {u.email for u in users}
