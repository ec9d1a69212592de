"""The bundled sample dataset (CLINC150 banking intents, CC BY 3.0; see sample_data/README.txt) and a
scripted annotator that answers Label Studio's queue with gold labels (tests, benchmarks, demos)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from al_core.labelstudio.gateway import Gateway, Progress
from al_core.labelstudio.label_config import TEMPLATES, LabelSpec, parse_label_config, prediction_result
from al_core.labelstudio.records import Project
from al_core.labelstudio.task_data import task_text

SAMPLE_CSV = Path(__file__).resolve().parent / "sample_data" / "clinc150_banking.csv"
SAMPLE_TEMPLATE = "intent"
SAMPLE_ATTRIBUTION = "Sample: the 15 banking intents of CLINC150 (Larson et al., EMNLP 2019), 2,250 texts, CC BY 3.0."


@cache
def sample_rows() -> tuple[tuple[str, str], ...]:
    """(text, label) rows of the sample dataset."""
    with open(SAMPLE_CSV, encoding="utf-8", newline="") as fh:
        return tuple((r["text"], r["label"]) for r in csv.DictReader(fh))


def sample_gold() -> dict[str, str]:
    return dict(sample_rows())


def sample_tasks(data_key: str = "text", repeat_to: int | None = None) -> list[dict]:
    """The sample as Label Studio tasks (text only: labels are never shown to annotators).

    ``repeat_to``: repeat the sample until that many tasks (benchmarks), marking repeats so texts stay unique.
    """
    rows = sample_rows()
    n = repeat_to or len(rows)
    tasks = []
    for i in range(n):
        text = rows[i % len(rows)][0]
        if i >= len(rows):
            text = f"{text} (#{i // len(rows)})"
        tasks.append({"data": {data_key: text}})
    return tasks


def import_sample(
    gateway: Gateway, project_id: int, data_key: str = "text", *, on_progress: Progress | None = None
) -> int:
    tasks = sample_tasks(data_key)
    chunks = (tasks[i : i + 1000] for i in range(0, len(tasks), 1000))
    return gateway.import_tasks(project_id, chunks, on_progress=on_progress)


def create_sample_project(gateway: Gateway, title: str = "Banking intents (sample)") -> Project:
    """A project with the intent template, filled with the sample texts."""
    project = gateway.create_project(title, TEMPLATES[SAMPLE_TEMPLATE], description=SAMPLE_ATTRIBUTION)
    import_sample(gateway, project.id)
    return gateway.get_project(project.id)


@dataclass
class GoldAnnotator:
    """Plays an annotator: takes tasks from ``/next`` and answers with the gold label of the text."""

    gateway: Gateway
    project_id: int
    gold: Callable[[str], str | None]
    spec: LabelSpec | None = None

    def __post_init__(self) -> None:
        if self.spec is None:
            self.spec = parse_label_config(self.gateway.get_project(self.project_id).label_config)

    def label(self, n: int) -> list[int]:
        """Annotate up to ``n`` tasks in the order Label Studio serves them; returns their ids."""
        done = []
        for _ in range(n):
            task = self.gateway.next_task(self.project_id)
            if task is None:
                break
            text = task_text(task.data, self.spec)
            label = self.gold(_strip_repeat(text or ""))
            if label is None:
                self.gateway.create_annotation(task.id, [], was_cancelled=True)
            else:
                self.gateway.create_annotation(task.id, prediction_result(self.spec, label))
            done.append(task.id)
        return done


def _strip_repeat(text: str) -> str:
    return text.rsplit(" (#", 1)[0] if text.endswith(")") and " (#" in text else text
