"""A Label Studio project with known wrong labels, for the label-issues tests (integration and app).

15 sample intents x ``per_class`` labeled tasks, imported with their annotations in one request, ``n_flipped`` of
them labeled with another intent chosen at random, plus one unlabeled task.
"""

from __future__ import annotations

import numpy as np

from al_core.lab.sample import sample_rows
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES, parse_label_config, prediction_result


def noisy_project(
    gateway: Gateway, title: str, *, per_class: int = 24, n_flipped: int = 12, seed: int = 7
) -> tuple[int, dict[int, tuple[str, str]]]:
    """(project id, task id -> (given label, true label) of each flipped task)."""
    spec = parse_label_config(TEMPLATES["intent"])
    by_class: dict[str, list[str]] = {}
    for text, label in sample_rows():
        if len(by_class.setdefault(label, [])) < per_class:
            by_class[label].append(text)
    rows = [(text, label) for label, texts in by_class.items() for text in texts]
    rng = np.random.default_rng(seed)
    flips = set(rng.choice(len(rows), size=n_flipped, replace=False).tolist())
    given = [
        str(rng.choice([c for c in spec.labels if c != label])) if i in flips else label
        for i, (_, label) in enumerate(rows)
    ]
    tasks: list[dict] = [
        {"data": {"text": text}, "annotations": [{"result": prediction_result(spec, g)}]}
        for (text, _), g in zip(rows, given, strict=True)
    ]
    tasks.append({"data": {"text": "no label yet"}})
    project = gateway.create_project(title, TEMPLATES["intent"])
    gateway.import_tasks(project.id, [tasks])
    by_text = {t.data["text"]: t.id for t in gateway.list_tasks(project.id)}
    return project.id, {by_text[rows[i][0]]: (given[i], rows[i][1]) for i in flips}
