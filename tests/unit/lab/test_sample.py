"""The bundled sample (CLINC150 banking, 15 intents x 150 texts), its tasks, and the scripted annotator
driven by a fake Label Studio queue."""

from __future__ import annotations

import collections

from al_core.lab.sample import (
    SAMPLE_CSV,
    SAMPLE_TEMPLATE,
    GoldAnnotator,
    create_sample_project,
    sample_gold,
    sample_rows,
    sample_tasks,
)
from al_core.labelstudio.label_config import TEMPLATES, parse_label_config
from al_core.labelstudio.records import Project, Task


def test_the_sample_is_15_banking_intents_of_150_texts_each():
    rows = sample_rows()
    assert len(rows) == 2250 and rows[0] == ("when is my electric bill due by", "bill_due")
    counts = collections.Counter(label for _, label in rows)
    assert len(counts) == 15 and set(counts.values()) == {150}
    assert len(sample_gold()) == 2250  # every text is distinct
    assert set(counts) == set(parse_label_config(TEMPLATES[SAMPLE_TEMPLATE]).labels)
    assert (SAMPLE_CSV.parent / "README.txt").read_text(encoding="utf-8").count("CC BY 3.0") == 1


def test_tasks_show_the_text_only_and_repeats_are_marked():
    tasks = sample_tasks("body", repeat_to=4502)
    assert len(tasks) == 4502 and tasks[0] == {"data": {"body": "when is my electric bill due by"}}
    assert tasks[2250] == {"data": {"body": "when is my electric bill due by (#1)"}}
    assert tasks[4501] == {"data": {"body": f"{sample_rows()[1][0]} (#2)"}}
    assert len({t["data"]["body"] for t in tasks}) == 4502
    assert len(sample_tasks()) == 2250


class FakeLabelStudio:
    """A project whose queue serves the given tasks in order, recording annotations."""

    def __init__(self, texts: list[str]) -> None:
        self.queue = [Task(100 + i, {"text": text}) for i, text in enumerate(texts)]
        self.annotations: list[tuple[int, list, bool]] = []
        self.imported: list[int] = []

    def get_project(self, project_id: int) -> Project:
        return Project(project_id, "sample", TEMPLATES[SAMPLE_TEMPLATE], task_number=sum(self.imported))

    def create_project(self, title: str, label_config: str, *, description: str = "") -> Project:
        assert label_config == TEMPLATES[SAMPLE_TEMPLATE] and "CC BY 3.0" in description
        return Project(42, title, label_config)

    def import_tasks(self, project_id: int, chunks, *, on_progress=None) -> int:
        self.imported = [len(chunk) for chunk in chunks]
        return sum(self.imported)

    def next_task(self, project_id: int) -> Task | None:
        return self.queue.pop(0) if self.queue else None

    def create_annotation(self, task_id: int, result, *, was_cancelled: bool = False) -> int:
        self.annotations.append((task_id, result, was_cancelled))
        return len(self.annotations)


def test_the_annotator_answers_the_queue_with_gold_labels_and_skips_unknown_texts():
    fake = FakeLabelStudio(["what is my balance (#3)", "no idea", "what is my balance"])
    gold = {"what is my balance": "balance"}.get
    annotator = GoldAnnotator(fake, 42, gold)  # type: ignore[arg-type]
    assert annotator.label(5) == [100, 101, 102]  # the queue ran out after 3
    choice = [{"from_name": "intent", "to_name": "text", "type": "choices", "value": {"choices": ["balance"]}}]
    assert fake.annotations == [(100, choice, False), (101, [], True), (102, choice, False)]
    assert annotator.label(1) == []


def test_the_sample_project_is_created_and_filled_in_chunks_of_1000():
    fake = FakeLabelStudio([])
    project = create_sample_project(fake)  # type: ignore[arg-type]
    assert fake.imported == [1000, 1000, 250]
    assert (project.id, project.task_number) == (42, 2250)
