"""Annotator agreement against a real Label Studio: three real users (signed up through the invite link, each with
their own token) annotate the same tasks; their votes are read back by user id, and the kappas, the consensus and
the disputed tasks are those of the votes they cast."""

from __future__ import annotations

import pytest

from al_core import quality
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


def test_agreement_of_real_users_on_the_same_tasks(label_studio, gateway: Gateway) -> None:
    config = build_config(LABELS, control_name="animal")
    project = gateway.create_project("agreement test", config)
    gateway.import_tasks(project.id, [[{"data": {"text": f"picture {i}"}} for i in range(len(ANSWERS) + 1)]])
    tasks = sorted(gateway.list_tasks(project.id), key=lambda t: t.id)
    spec = parse_label_config(config)
    users = [sign_up(label_studio.url, label_studio.api_key) for _ in range(3)]
    people = [Gateway(label_studio.url, u.token) for u in users]
    ids = [p.whoami().id for p in people]
    assert len(set(ids)) == 3
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
