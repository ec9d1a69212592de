"""A key that worked stops working mid-session (its owner pressed "Reset" next to the legacy token in
Label Studio), against the real server. The session's admin token is never reset: a member of the
admin's organization, signed up through the invite link, owns the key reset here."""

from __future__ import annotations

import pytest

from al_core.errors import AuthenticationFailed
from al_core.iteration import IterationSettings, run_iteration
from al_core.lab.sample import SAMPLE_TEMPLATE, sample_gold, sample_tasks
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES, parse_label_config, prediction_result
from al_core.settings import db_url
from al_core.store.history import History
from al_core.store.records import StoredMetrics
from tests.ls_users import User, reset_token, sign_up

REJECTED = r"refused the API key \(401: Invalid token\.\).*reset or revoked.*Account & Settings"


@pytest.fixture(scope="module")
def member(label_studio) -> User:
    return sign_up(label_studio.url, label_studio.api_key)


@pytest.fixture(scope="module")
def served(member: User, label_studio):
    """The member's project after one iteration with their key: a queue with a current version."""
    gw = Gateway(label_studio.url, member.token)
    project = gw.create_project("revoked key", TEMPLATES[SAMPLE_TEMPLATE])
    gw.import_tasks(project.id, [sample_tasks()[::20]])  # 113 texts of the 15 intents: a fast project
    spec, gold = parse_label_config(project.label_config), sample_gold()
    for task in gw.list_tasks(project.id)[:8]:  # ~0.4 s per annotation on 2 cores: just enough to train
        gw.create_annotation(task.id, prediction_result(spec, gold[task.data["text"]]))
    first = run_iteration(
        gw, History(db_url(), server=gw.url), project.id, IterationSettings(upload_top=100, eval_size=0)
    )
    assert not first.cold_start
    return project, first


def _snapshot(gateway: Gateway, project_id: int) -> tuple:
    project = gateway.get_project(project_id)
    current = gateway.list_predictions(project_id, project.model_version)
    return project.model_version, gateway.model_versions(project_id), sorted(p.id for p in current)


def test_a_revoked_key_is_refused_with_a_message_a_person_can_act_on(
    label_studio, gateway: Gateway, member: User, served
) -> None:
    project, first = served
    history = History(db_url(), server=label_studio.url)
    gw = Gateway(label_studio.url, member.token)
    assert gw.get_project(project.id).model_version == first.model_version  # the key works ...
    before, n_records = _snapshot(gateway, project.id), len(history.iterations(project.id))

    new_token = reset_token(label_studio.url, member.token)  # ... until its owner resets it
    with pytest.raises(AuthenticationFailed, match=REJECTED) as refused:
        gw.get_project(project.id)
    message = str(refused.value)
    assert member.token not in message and new_token not in message and member.token not in repr(refused.value)

    with pytest.raises(AuthenticationFailed, match=REJECTED):
        run_iteration(gw, history, project.id, IterationSettings(upload_top=100, eval_size=0))
    assert len(history.iterations(project.id)) == n_records, "nothing recorded for a key that cannot see the project"
    assert history.lock_holder(project.id) is None
    assert _snapshot(gateway, project.id) == before, "queue version and predictions untouched"

    assert Gateway(label_studio.url, new_token).get_project(project.id).id == project.id  # the fix works


def test_a_key_revoked_during_an_iteration_fails_it_cleanly(
    label_studio, gateway: Gateway, member: User, served
) -> None:
    project, _ = served
    history = History(db_url(), server=label_studio.url)
    token = sign_up(label_studio.url, label_studio.api_key).token  # a teammate: same organization, same project
    gw = Gateway(label_studio.url, token)
    before, n_records = _snapshot(gateway, project.id), len(history.iterations(project.id))

    def revoke_before_upload(step: str, fraction: float, _: str) -> None:
        if step == "upload" and fraction == 0.0:
            reset_token(label_studio.url, token)

    with pytest.raises(AuthenticationFailed, match=REJECTED) as refused:
        run_iteration(
            gw,
            history,
            project.id,
            IterationSettings(upload_top=100, eval_size=0),
            on_progress=revoke_before_upload,
            force=True,  # the labels are those of the first version: without it the run skips before uploading
        )
    records = history.iterations(project.id)
    assert len(records) == n_records + 1
    failed = records[-1]
    assert failed.status == "failed" and failed.error == str(refused.value) and token not in failed.error
    assert failed.metrics == StoredMetrics() and failed.artifact_path is None, "a failed run claims no measured model"
    assert history.succeeded(project.id)[-1].model_version == before[0], (
        "the serving version is still the last good one"
    )
    assert history.lock_holder(project.id) is None
    assert _snapshot(gateway, project.id) == before, "queue version and predictions untouched"
