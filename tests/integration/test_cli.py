"""The stable headless interface: ``python -m al_core iterate | status`` as other tools call it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from al_core.lab.sample import GoldAnnotator, sample_gold
from al_core.labelstudio.gateway import Gateway
from al_core.settings import PROJECT_ROOT, db_url
from al_core.store.history import History
from tests.conftest import create_small_sample_project


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "al_core", *args],
        capture_output=True,
        text=True,
        cwd=str(PROJECT_ROOT),
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_iterate_and_status_json(label_studio, gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AL_MODEL", raising=False)  # no model chosen: the default for the sample's 15 intents
    project = create_small_sample_project(gateway, "cli test")
    GoldAnnotator(gateway, project.id, sample_gold().get).label(30)
    conn = ["--url", label_studio.url, "--api-key", label_studio.api_key]
    done = _cli("iterate", *conn, "--project", str(project.id), "--upload-top", "100", "--json", "--no-prune")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {"model_version", "n_labeled", "n_unlabeled", "n_scored", "n_predictions", "metrics", "timings"} <= set(out)
    assert out["model_version"].startswith("al-0001-n")
    assert (out["model"], out["model_by_classes"]) == ("minilm-logreg", 15), "many classes, none chosen: MiniLM"
    assert out["n_scored"] == out["n_unlabeled"] == project.task_number - 30
    assert gateway.get_project(project.id).model_version == out["model_version"]
    low, high = out["metrics"]["accuracy_ci"]  # the 95% interval beside the accuracy and its n (issue #15)
    assert 0 <= low <= out["metrics"]["accuracy"] <= high <= 1 and out["metrics"]["n_eval"] > 0

    env = {"LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": label_studio.api_key}
    status = _cli("status", "--project", str(project.id), "--json", env=env)
    assert status.returncode == 0, status.stderr
    payload = json.loads(status.stdout)
    assert payload["project"] == project.id and payload["model_version"] == out["model_version"]
    it = payload["iterations"][0]
    assert {"model_version", "status", "n_labeled", "metrics", "error"} <= set(it)
    assert it["status"] == "succeeded" and it["n_labeled"] == out["n_labeled"]
    assert (it["model"], it["model_by_classes"]) == ("minilm-logreg", 15), "the history records the model used"
    assert it["metrics"]["accuracy_ci"] == pytest.approx([low, high])
    assert "every" in payload["automation"]

    text = _cli("status", "--project", str(project.id), env=env)
    assert out["model_version"] in text.stdout and "succeeded" in text.stdout


def test_failures_are_one_line_without_traceback(label_studio) -> None:
    wrong_key = _cli("iterate", "--url", label_studio.url, "--api-key", "not-a-key-7f3a9c", "--project", "1")
    assert wrong_key.returncode == 1
    assert wrong_key.stderr.startswith("error: Label Studio at") and "refused the API key" in wrong_key.stderr
    assert len(wrong_key.stderr.strip().splitlines()) == 1 and "Traceback" not in wrong_key.stderr
    assert wrong_key.stdout == ""
    assert "7f3a9c" not in wrong_key.stderr  # the key itself is never printed

    unreachable = _cli("status", "--url", "http://127.0.0.1:9", "--api-key", "k", "--project", "1")
    assert unreachable.returncode == 1 and "Cannot reach Label Studio" in unreachable.stderr
    missing = _cli("status", "--project", "1")
    assert missing.returncode == 1 and "No Label Studio configured" in missing.stderr


@pytest.mark.timeout(1200)  # the paced pruner takes minutes on a loaded machine (bench/README.md)
def test_iterate_prunes_old_versions_in_a_detached_process(label_studio, gateway: Gateway) -> None:
    project = create_small_sample_project(gateway, "cli prune test")
    GoldAnnotator(gateway, project.id, sample_gold().get).label(30)
    env = {"LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": label_studio.api_key}
    # Pruning is the same for every model: the fast one (the default, embedding model runs in the test above).
    args = ("iterate", "--project", str(project.id), "--model", "tfidf-logreg", "--upload-top", "20")
    args += ("--keep-versions", "1", "--json")
    first = json.loads(_cli(*args, "--no-prune", env=env).stdout)["model_version"]
    GoldAnnotator(gateway, project.id, sample_gold().get).label(5)  # new labels: a second version
    second = _cli(*args, env=env)  # returns at once; the detached pruner removes the first version
    assert second.returncode == 0, second.stderr
    history = History(db_url(), server=label_studio.url)

    def pruned() -> bool:
        return any(e.detail == {"version": first, "state": "done"} for e in history.events(project.id, "prune"))

    deadline = time.monotonic() + 600  # the pruner deletes ~10 predictions, then pauses 1 s: 0.4-2.7 s each
    while not pruned() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert pruned(), history.events(project.id, "prune")
    assert first not in gateway.model_versions(project.id)
    assert json.loads(second.stdout)["model_version"] in gateway.model_versions(project.id)


def test_two_choices_the_cli_learns_the_one_named_and_status_and_automation_show_it(
    label_studio, gateway: Gateway, two_choices_project: int
) -> None:
    """Issue #19 D1: ``iterate`` once failed with "choose ... (control=...)" and no option to choose with."""
    pid, conn = str(two_choices_project), ["--url", label_studio.url, "--api-key", label_studio.api_key]
    refused = _cli("iterate", *conn, "--project", pid, "--model", "tfidf-logreg", "--no-prune")
    assert refused.returncode == 1 and "'topic', 'subtopic'" in refused.stderr and "--control NAME" in refused.stderr
    args = ("--project", pid, "--model", "tfidf-logreg", "--upload-top", "0", "--no-prune", "--json")
    done = _cli("iterate", *conn, *args, "--control", "subtopic")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    predictions = gateway.list_predictions(two_choices_project, out["model_version"])
    assert {r["from_name"] for p in predictions for r in p.result} == {"subtopic"}, "subtopic is what it learned"
    assert set(out["metrics"]["labels"]) == {"refund", "fee", "limit"}
    assert (out["model"], out["model_by_classes"]) == ("tfidf-logreg", None), "--model overrides the class rule"

    status = json.loads(_cli("status", *conn, "--project", pid, "--json").stdout)
    refused_run, learned = status["iterations"]  # the refused run is recorded as failed, with its reason
    assert refused_run["status"] == "failed" and "--control NAME" in refused_run["error"]
    assert status["controls"] == ["topic", "subtopic"] and learned["control"] == "subtopic"
    assert status["automation"]["control"] is None, "automatic runs have not been told yet"
    text = _cli("status", *conn, "--project", pid).stdout
    assert "<Choices> over text: topic, subtopic" in text and "control=subtopic" in text

    unknown = _cli("automation", *conn, "--project", pid, "--control", "sub-topic")
    assert unknown.returncode == 1 and 'There is no <Choices name="sub-topic">' in unknown.stderr
    stored = _cli(
        "automation", *conn, "--project", pid, "--control", "topic", "--every", "4", "--no-diversity", "--json"
    )
    assert stored.returncode == 0, stored.stderr
    assert json.loads(stored.stdout)["settings"] == {"control": "topic", "diversity": False}
    again = json.loads(_cli("automation", *conn, "--project", pid, "--upload-top", "0", "--json").stdout)
    assert again["every"] == 4 and again["settings"] == {"control": "topic", "diversity": False, "upload_top": 0}
    status = json.loads(_cli("status", *conn, "--project", pid, "--json").stdout)
    assert status["automation"]["control"] == "topic" and status["automation"]["every"] == 4
    assert "control=topic" in _cli("status", *conn, "--project", pid).stdout
    auto = _cli("automation", *conn, "--project", pid, "--model", "auto")  # stored as no model: by classes
    assert auto.returncode == 0 and "model=auto" in auto.stdout, auto.stderr
    assert History(db_url(), server=label_studio.url).automation(two_choices_project).settings["model"] is None


def test_every_setting_of_the_active_learning_page_is_an_iterate_flag_and_can_be_stored() -> None:
    """The rule of issue #19 kind D, checked on the parser: the page's settings are the CLI's."""
    from al_core.__main__ import SETTINGS_FLAGS, _parser
    from al_core.automation.registration import STORED

    offered = {"model", "strategy", "diversity", "eval_size", "upload_top", "control", "dask_scheduler"}  # the page
    page = (PROJECT_ROOT / "pages" / "active_learning.py").read_text(encoding="utf-8")
    assert all(f"{name}=" in page for name in offered), "the page passes each to IterationSettings"
    assert offered <= set(SETTINGS_FLAGS) <= set(STORED)
    for command in ("iterate", "automation"):
        args = vars(_parser().parse_args([command, "--project", "1"]))
        assert set(SETTINGS_FLAGS) <= set(args), command
