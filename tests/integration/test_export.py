"""export-predictions against the real Label Studio: one row per task, the right labels, both file formats."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from al_core import export
from al_core import settings as app_settings
from al_core.errors import NotFound
from al_core.iteration import IterationSettings, run_iteration
from al_core.lab.sample import GoldAnnotator, create_sample_project, sample_gold
from al_core.labelstudio.gateway import Gateway
from al_core.settings import PROJECT_ROOT
from al_core.store.history import History
from tests.conftest import create_small_sample_project


def test_every_task_gets_one_row_with_its_human_label_and_eval_flag(label_studio, gateway: Gateway, tmp_path) -> None:
    project = create_sample_project(gateway, "export test")
    gold = sample_gold()
    labeled = GoldAnnotator(gateway, project.id, gold.get).label(40)
    history = History(app_settings.db_url(), server=gateway.url)
    done = run_iteration(gateway, history, project.id, IterationSettings(model="tfidf-logreg", upload_top=50))
    gateway.import_tasks(project.id, [[{"text": "   "}]])  # a task with no readable text is left out, and counted

    result = export.export_predictions(gateway, history, project.id)
    assert result.model_version == done.model_version == gateway.get_project(project.id).model_version
    assert len(result.rows) == 2250 and result.n_missing_text == 1
    assert result.warnings == ["1 task(s) left out: their data holds no text in the labeled field."]
    by_id = {row.task_id: row for row in result.rows}
    texts = {t.id: t.data["text"] for t in gateway.list_tasks(project.id)}
    assert {tid for tid, row in by_id.items() if row.label is not None} == set(labeled)
    assert all(by_id[tid].label == gold[texts[tid]] for tid in labeled)
    assert {tid for tid, row in by_id.items() if row.is_eval} == set(history.eval_set(project.id))
    classes = set(gold.values())
    assert all(row.predicted in classes and 0 < row.confidence <= 1 and 0 <= row.margin <= 1 for row in result.rows)

    rows = list(csv.DictReader(io.StringIO(export.to_csv(result.rows))))
    assert list(rows[0]) == list(export.COLUMNS) and len(rows) == 2250
    first = by_id[int(rows[0]["task_id"])]
    assert rows[0]["is_eval"] == ("true" if first.is_eval else "false")
    assert rows[0]["label"] == (first.label or "")

    env = {**os.environ, "LABEL_STUDIO_URL": gateway.url, "LABEL_STUDIO_API_KEY": label_studio.api_key}
    cli = subprocess.run(
        [sys.executable, "-m", "al_core", "export-predictions", "--project", str(project.id), "--out", str(tmp_path / "p.csv")],
        capture_output=True, text=True, cwd=str(PROJECT_ROOT), env=env, timeout=300,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip() == f"Wrote 2,250 predictions of {done.model_version} to {tmp_path / 'p.csv'}."
    assert "warning: 1 task(s) left out: their data holds no text in the labeled field." in cli.stderr
    assert (tmp_path / "p.csv").read_text() == export.to_csv(result.rows)
    wrong = subprocess.run(
        [sys.executable, "-m", "al_core", "export-predictions", "--project", str(project.id), "--version", "al-0042-n1", "--out", str(tmp_path / "x.csv")],
        capture_output=True, text=True, cwd=str(PROJECT_ROOT), env=env, timeout=300,
    )  # fmt: skip
    assert wrong.returncode == 1 and wrong.stderr.startswith("error: Model version 'al-0042-n1'")
    assert not (tmp_path / "x.csv").exists()

    path = export.write(result, tmp_path / "predictions.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 2250 and set(lines[0]) == set(export.COLUMNS)
    assert sum(line["label"] is not None for line in lines) == len(labeled)


def test_unknown_versions_and_projects_without_a_version_are_refused(gateway: Gateway) -> None:
    project = create_small_sample_project(gateway, "export refusals")
    history = History(app_settings.db_url(), server=gateway.url)
    with pytest.raises(NotFound, match=r"has no current model version: run an iteration first"):
        export.export_predictions(gateway, history, project.id)
    with pytest.raises(NotFound, match=r"Model version 'al-0009-n5' of project \d+ has no saved model"):
        export.export_predictions(gateway, history, project.id, "al-0009-n5")
