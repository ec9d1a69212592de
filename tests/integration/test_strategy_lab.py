"""The Strategy lab reads a real project's labels (Label Studio's export) into the simulation."""

from __future__ import annotations

from al_core.lab import sample, strategy_lab
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import build_config, parse_label_config, prediction_result

INTENTS = ("bill_due", "transactions", "freeze_account")


def test_a_projects_labels_feed_the_simulation(gateway: Gateway, unique_title: str) -> None:
    rows = [(t, lab) for t, lab in sample.sample_rows() if lab in INTENTS][:60]
    project = gateway.create_project(unique_title, build_config(sorted(INTENTS)))
    spec = parse_label_config(project.label_config)
    # 51 tasks imported with their annotation (one request: fast), 9 without; one of those is then skipped.
    tasks = [
        {"data": {"text": text}, **({"annotations": [{"result": prediction_result(spec, label)}]} if i < 51 else {})}
        for i, (text, label) in enumerate(rows)
    ]
    gateway.import_tasks(project.id, [tasks])
    unlabeled = gateway.list_tasks(project.id, labeled=False)
    gateway.create_annotation(unlabeled[0].id, [], was_cancelled=True)
    gold = dict(rows)

    data = strategy_lab.from_project(gateway, project.id)
    assert data.n == 51 and data.n_dropped == 1
    assert set(data.classes) <= set(INTENTS) and len(data.classes) >= 2
    assert all(gold[text] == label for text, label in zip(data.texts, data.labels, strict=True))
    assert data.source == f"project {project.id}: {unique_title}"

    done = strategy_lab.run(
        data, strategy_names=["random", "margin"], budget=30, batch=10, seeds=1, model="tfidf-logreg"
    )
    assert [n for n, _ in done.result["strategies"]["margin"]["curve"]] == [20, 30]
