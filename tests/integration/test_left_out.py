"""Nothing dropped without a word, against the real Label Studio: Label Studio's own task format imported with its
annotations and predictions (what is left out counted), a malformed file refused before anything is sent,
predictions for tasks deleted since they were read, and an iteration's warnings in its result, its record and the
CLI's JSON."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from al_core.errors import UploadError
from al_core.iteration import IterationSettings, run_iteration
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.labelstudio.uploads import import_report, iter_task_chunks
from al_core.settings import PROJECT_ROOT, db_url
from al_core.store.history import History


def choice(label: str) -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


def test_label_studio_tasks_keep_their_annotations_and_predictions(gateway: Gateway, unique_title: str) -> None:
    exported = [  # as another server's JSON export writes them: ids, annotator ids and counters of that server
        {
            "id": 901,
            "data": {"text": "great, works"},
            "annotations": [{"id": 77, "completed_by": 42, "result": choice("Positive"), "ground_truth": False,
                             "task": 901, "project": 9, "created_at": "2024-01-01T00:00:00Z"}],
            "predictions": [{"id": 5, "model_version": "their-model", "score": 0.3, "result": choice("Positive"),
                             "task": 901}],
            "drafts": [{"id": 1, "result": choice("Negative"), "user": "someone@elsewhere"}],
            "total_annotations": 1,
        },
        {"id": 902, "data": {"text": "awful"}, "annotations": [{"result": choice("Negative"), "was_cancelled": False}],
         "predictions": [{"result": choice("Negative"), "model_version": "their-model"}, {"score": 0.1}]},
        {"id": 903, "data": {"text": "so-so"}},
        {"id": 904, "data": {"text": "great, works"}, "annotations": [{"result": choice("Neutral")}]},
        {"id": 905, "data": {"text": "  "}, "predictions": [{"result": choice("Neutral")}]},
    ]  # fmt: skip
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    raw = io.BytesIO(json.dumps(exported).encode())
    stream = iter_task_chunks(raw, "export.json", text_column="text")

    imported = gateway.import_tasks_counted(project.id, stream)
    report = import_report(stream, imported)

    assert (imported.tasks, imported.annotations, imported.predictions) == (3, 2, 2)
    assert report.summary == "Created 3 tasks with 2 annotations and 2 predictions from 5 rows."
    assert report.warnings == (
        "1 row with an empty text left out.",
        "1 row repeating an earlier text left out.",
        "1 annotation on rows repeating an earlier text left out.",
        "1 annotation names an annotator of another server: counted as made by you (the key's user).",
        "1 draft left out (Label Studio imports submitted annotations).",
        "1 prediction on rows with an empty text left out.",
        "1 prediction without a result list left out.",
    )
    labeled = {t.data["text"]: t.annotations for t in gateway.labeled_tasks(project.id)}
    assert {text: [a.result[0]["value"]["choices"] for a in anns] for text, anns in labeled.items()} == {
        "great, works": [["Positive"]],
        "awful": [["Negative"]],
    }
    me = gateway.whoami().id
    assert {a.completed_by for anns in labeled.values() for a in anns} == {me}
    assert sorted(p.score or 0 for p in gateway.list_predictions(project.id, "their-model")) == [0, 0.3]


@pytest.mark.parametrize(
    ("filename", "raw", "message"),
    [
        ("reviews.csv", 'id,text\n1,fine\n2,"unclosed\n3,more\n4,"and more"\n5,last\n',
         r"^reviews\.csv: line 3 is not valid CSV \(',' expected after '\"'\); an unclosed quote on that line"),
        ("reviews.tsv", 'id\ttext\n1\tfine\n2\t"unclosed\n3\tmore\n4\tmore still\n',
         r"^reviews\.tsv: line 3 is not valid TSV \(unexpected end of data\); an unclosed quote on that line"),
        ("reviews.json", '[{"text": "fine"},\n {"text": "ok"},\n {"text": "unclosed},\n {"text": "more"}]\n',
         r"^reviews\.json: item 3 of the JSON list is not valid JSON \(Invalid control character at, line 3\); "
         r"the item starts on line 3"),
        ("reviews.jsonl", '{"text": "fine"}\n{"text": "ok"}\n{"text": "unclosed}\n{"text": "more"}\n',
         r"^reviews\.jsonl: line 3 is not valid JSON \(Invalid control character at, column 20\)"),
    ],
)  # fmt: skip
def test_a_malformed_row_anywhere_is_refused_before_anything_is_imported(
    gateway: Gateway, unique_title: str, filename: str, raw: str, message: str
) -> None:
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    stream = iter_task_chunks(io.BytesIO(raw.encode()), filename, text_column="text", chunk_size=1)
    with pytest.raises(UploadError, match=message):
        gateway.import_tasks_counted(project.id, stream)
    assert gateway.get_project(project.id).task_number == 0 and gateway.list_tasks(project.id) == []


def test_predictions_for_a_task_deleted_since_it_was_read_land_for_the_others(
    gateway: Gateway, unique_title: str
) -> None:
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    gateway.import_tasks(project.id, [[{"data": {"text": f"text {i}"}} for i in range(50)]])
    tasks = gateway.list_tasks(project.id)
    gateway._client.tasks.delete(id=tasks[17].id)  # deleted by someone else after the pool was read
    predictions = [{"task": t.id, "result": choice("Positive"), "score": 0.5, "model_version": "v1"} for t in tasks]

    done = gateway.import_predictions_counted(project.id, predictions, chunk_size=20)

    assert (done.created, done.tasks_gone) == (49, 1)
    landed = gateway.list_predictions(project.id, "v1")
    assert len(landed) == 49 and tasks[17].id not in {p.task for p in landed}


def test_an_iteration_says_what_it_left_out(label_studio, gateway: Gateway, unique_title: str) -> None:
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    positive = [
        {"data": {"text": f"great product {i}"}, "annotations": [{"result": choice("Positive")}]} for i in range(6)
    ]
    negative = [
        {"data": {"text": f"awful service {i}"}, "annotations": [{"result": choice("Negative")}]} for i in range(6)
    ]
    odd = [
        {"data": {"text": "not a label here"}, "annotations": [{"result": choice("Spam")}]},
        {"data": {"text": "skipped one"}, "annotations": [{"result": [], "was_cancelled": True}]},
        {"data": {"text": "an empty answer"}, "annotations": [{"result": []}]},
        {"data": {"text": "", "body": "no text"}},
        {"data": {"text": " ", "body": "no text either"}},
    ]
    unlabeled = [{"data": {"text": f"unlabeled {i}"}} for i in range(20)]
    gateway.import_tasks(project.id, [positive + negative + odd + unlabeled])
    history = History(db_url(), server=gateway.url)

    result = run_iteration(gateway, history, project.id, IterationSettings(upload_top=0, eval_size=0))

    expected = [
        "2 tasks have no text in the field the labeling config shows: left out of training and scoring.",
        "1 task was skipped by every annotator: not trained on.",
        "1 annotation names a label not in the labeling config: 'Spam' (1); ignored. Add the labels to the config "
        "or fix the annotations.",
        "2 labeled tasks have no usable answer (empty, for another control, several choices where the config allows "
        "one, or only unknown labels): neither trained on nor queued.",
    ]
    assert result.warnings == expected
    assert history.iterations(project.id)[-1].counts.warnings == tuple(expected)
    conn = ["--url", label_studio.url, "--api-key", label_studio.api_key]
    done = subprocess.run(
        [sys.executable, "-m", "al_core", "iterate", *conn, "--project", str(project.id), "--json", "--no-prune"],
        capture_output=True, text=True, cwd=str(PROJECT_ROOT), env=dict(os.environ), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["warnings"] == expected
