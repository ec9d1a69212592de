"""Annotator agreement against a real Label Studio: three real users (signed up through the invite link, each with
their own token) annotate the same tasks; their votes are read back by user id, and the kappas, the consensus and
the disputed tasks are those of the votes they cast. Annotators are named as the server knows them (the name one
of them set, the others' emails), in the report, its JSON and ``label-issues --agreement``."""

from __future__ import annotations

import json

import httpx
import pytest

from al_core import quality
from al_core.__main__ import main
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import build_config, parse_label_config, prediction_result
from al_core.learning import agreement
from tests.ls_users import sign_up

LABELS = ("cat", "dog", "fish")
# Per task: what each of the three annotators answers (the first is careful, the third careless).
ANSWERS = [
    ("cat", "cat", "cat"),
    ("dog", "dog", "dog"),
    ("fish", "fish", "cat"),
    ("cat", "cat", "dog"),
    ("dog", "dog", "fish"),
    ("fish", "fish", "fish"),
    ("cat", "dog", "dog"),
    ("dog", "dog", "cat"),
    ("fish", "cat", "dog"),
    ("cat", "cat", "cat"),
]


def test_agreement_of_real_users_on_the_same_tasks(
    label_studio, gateway: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    config = build_config(LABELS, control_name="animal")
    project = gateway.create_project("agreement test", config)
    gateway.import_tasks(project.id, [[{"data": {"text": f"picture {i}"}} for i in range(len(ANSWERS) + 1)]])
    tasks = sorted(gateway.list_tasks(project.id), key=lambda t: t.id)
    spec = parse_label_config(config)
    users = [sign_up(label_studio.url, label_studio.api_key) for _ in range(3)]
    people = [Gateway(label_studio.url, u.token) for u in users]
    ids = [p.whoami().id for p in people]
    assert len(set(ids)) == 3
    named = httpx.patch(  # what the first one does in Account & Settings
        f"{label_studio.url}/api/users/{ids[0]}/",
        json={"first_name": "Ann", "last_name": "Careful"},
        headers={"Authorization": f"Token {users[0].token}"},
        timeout=30,
    )
    named.raise_for_status()
    for task, answers in zip(tasks, ANSWERS, strict=False):
        for person, answer in zip(people, answers, strict=True):
            person.create_annotation(task.id, prediction_result(spec, answer))
    people[0].create_annotation(tasks[-1].id, prediction_result(spec, "cat"))  # one task with a single annotation

    report = quality.annotator_agreement(gateway, project.id)
    a = report.agreement
    assert report.n_votes == 3 * len(ANSWERS) + 1 and (a.n_tasks, a.n_single) == (len(ANSWERS), 1)
    assert a.fleiss_kappa == pytest.approx(agreement.fleiss_kappa([list(x) for x in ANSWERS]))
    by_user = {x.annotator: x for x in a.annotators}
    assert set(by_user) == set(ids) and by_user[ids[0]].n_votes == len(ANSWERS) + 1
    assert by_user[ids[0]].agreement > by_user[ids[2]].agreement  # the careful one agrees most with the others
    pair = next(p for p in a.pairs if {p.a, p.b} == {ids[0], ids[1]})
    first, second = [x[0] for x in ANSWERS], [x[1] for x in ANSWERS]
    assert pair.n == len(ANSWERS) and pair.kappa == pytest.approx(agreement.cohen_kappa(first, second))
    disputed = {d.task_id: d for d in a.disputed}
    assert tasks[8].id == a.disputed[0].task_id and disputed[tasks[8].id].agreement == pytest.approx(1 / 3)
    assert tasks[0].id not in disputed and len(disputed) == sum(len(set(x)) > 1 for x in ANSWERS)
    assert "majority vote" in report.rule and report.to_json()["fleiss_kappa"] == a.fleiss_kappa

    assert report.warnings == () and report.name(ids[0]) == f"Ann Careful <{users[0].email}>"
    assert [report.name(i) for i in ids[1:]] == [u.email for u in users[1:]]
    out = report.to_json()
    assert {x["annotator"]: x["email"] for x in out["annotators"]} == {
        i: u.email for i, u in zip(ids, users, strict=True)
    }
    assert {(p["a_name"], p["b_name"]) for p in out["pairs"]} >= {(report.name(ids[0]), report.name(ids[1]))}

    monkeypatch.setenv("AL_MODEL", "tfidf-logreg")
    key = ["--url", label_studio.url, "--api-key", label_studio.api_key, "--project", str(project.id)]
    assert main(["label-issues", *key, "--agreement", "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert list(said)[:2] == ["project", "issues"] and said["agreement"]["annotators"] == out["annotators"]
    assert main(["label-issues", *key, "--agreement"]) == 0
    text = capsys.readouterr().out
    assert f"Ann Careful <{users[0].email}>: {len(ANSWERS) + 1} votes" in text and "Fleiss' kappa" in text

    gone = sign_up(label_studio.url, label_studio.api_key)  # annotates, then an admin deletes the account
    Gateway(label_studio.url, gone.token).create_annotation(tasks[-1].id, prediction_result(spec, "dog"))
    gone_id = Gateway(label_studio.url, gone.token).whoami().id
    admin = {"Authorization": f"Token {label_studio.api_key}"}
    httpx.delete(f"{label_studio.url}/api/users/{gone_id}/", headers=admin, timeout=30).raise_for_status()
    after = quality.annotator_agreement(gateway, project.id)  # the vote stays; Label Studio forgot whose it was
    assert after.n_votes == report.n_votes + 1 and gone_id not in {x.annotator for x in after.agreement.annotators}
    assert {x["name"]: x["email"] for x in after.to_json()["annotators"]}["deleted user"] is None
