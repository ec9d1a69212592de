"""``status`` (al_core.reports.status) and every report read a running and a failed iteration without raising
(they once crashed on ``n_labeled: None``); ``status`` names the ``<Choices>`` and the one automatic runs learn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest

from al_core import __main__ as cli
from al_core.errors import ConfigError
from al_core.labelstudio.records import Project
from al_core.reports import charts, class_charts, version_summary
from al_core.reports.status import status_payload
from al_core.store.history import History
from al_core.store.records import IterationRecord

STATUS_KEYS = {"project", "title", "model_version", "sampling", "tasks", "labeled", "eval_set", "automation"}
ITERATION_KEYS = {"model_version", "status", "n_labeled", "metrics", "error", "trigger", "started_at"}


TWO_CHOICES = """<View>
  <Text name="text" value="$text"/>
  <Choices name="topic" toName="text"><Choice value="billing"/><Choice value="card"/></Choices>
  <Choices name="subtopic" toName="text" visibleWhen="choice-selected" whenTagName="topic">
    <Choice value="refund"/><Choice value="fee"/>
  </Choices>
</View>"""


class FakeGateway:
    url = "http://127.0.0.1:8080"

    def __init__(self, label_config: str = "<View/>") -> None:
        self.label_config = label_config

    def get_project(self, project_id: int) -> Project:
        return Project(id=project_id, title="Banking", label_config=self.label_config, task_number=10, model_version="")


@pytest.fixture
def history(tmp_path: Path) -> History:
    history = History(f"sqlite:///{tmp_path / 'history.db'}", server=FakeGateway.url)
    failed = history.start_iteration(1, None, {"strategy": "margin"}, "manual")
    history.finish_iteration(failed.id, status="failed", error="Label Studio does not answer.", timings={"read": 2.0})
    running = history.start_iteration(1, None, {"strategy": "margin"}, "webhook")
    history.set_step(running.id, "read")
    return history


def test_status_payload_of_a_running_and_a_failed_iteration(history: History) -> None:
    payload = status_payload(FakeGateway(), history, 1)  # type: ignore[arg-type]
    assert STATUS_KEYS | {"iterations"} <= set(payload)
    failed, running = payload["iterations"]
    assert set(failed) >= ITERATION_KEYS and set(running) >= ITERATION_KEYS
    assert failed["status"] == "failed" and failed["error"] == "Label Studio does not answer."
    assert failed["n_labeled"] is None and failed["metrics"] == {}
    assert running["status"] == "running" and running["n_labeled"] is None and running["step"] == "read"
    assert running["state"].startswith("running since") and running["finished_at"] is None
    assert payload["automation"] == {
        "every": None,
        "counted_since_last_version": 0,
        "settings": {},
        "last_trigger": None,
        "control": None,
    }
    assert payload["server"] == "http://127.0.0.1:8080" and payload["controls"] == []
    history.save_automation(1, every=5, settings={"strategy": "entropy"})
    history.count_annotation(1, 42, default_every=10)
    automation = status_payload(FakeGateway(), history, 1)["automation"]  # type: ignore[arg-type]
    assert (automation["every"], automation["counted_since_last_version"]) == (5, 1)
    assert automation["settings"] == {"strategy": "entropy"}
    json.dumps(payload)  # what ``status --json`` prints


def _every_figure(records: list[IterationRecord]) -> list[go.Figure]:
    figures: list[Any] = [make(records) for make in (charts.learning_curve, charts.uncertainty_by_version)]
    figures += [charts.stopping_signals(records), charts.step_timings(records)]
    for one in [*records, None]:
        figures += [charts.uncertainty_histogram(one), class_charts.class_balance(one)]
        figures += [class_charts.confusion_matrix(one), class_charts.per_class_f1(one)]
    figures.append(class_charts.compare_versions(records[0], records[-1]))
    return figures


def test_every_report_builds_from_a_running_and_a_failed_record(history: History) -> None:
    records = history.iterations(1)
    assert [r.status for r in records] == ["failed", "running"]
    assert all(f.layout.title.text for f in _every_figure(records))
    summary = version_summary.summary(records)
    assert summary["n_versions"] == 0 and summary["n_labeled"] is None
    table = version_summary.versions_table(records)
    assert list(table["status"]) == ["running", "failed"]
    assert table["error"][0].startswith("running since") and table["error"][1] == "Label Studio does not answer."


def _measured(history: History, n_labeled: int, right: set[int]) -> str:
    it = history.start_iteration(2, n_labeled, {"strategy": "margin"}, "cli")
    outcomes = {str(t): ["a", t in right, 0.9, "a"] for t in range(1, 41)}
    metrics = {"accuracy": len(right) / 40, "n_eval": 40, "eval_outcomes": outcomes, "eval_sample": "random"}
    history.finish_iteration(it.id, status="succeeded", counts={"n_labeled": n_labeled}, metrics=metrics)
    return it.model_version


def test_status_gives_the_interval_and_the_paired_test(
    history: History, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _measured(history, 20, set(range(1, 21)))
    second = _measured(history, 40, set(range(1, 37)))
    payload = status_payload(FakeGateway(), history, 2)  # type: ignore[arg-type]
    old, new = payload["iterations"]
    assert new["metrics"]["accuracy"] == 0.9 and new["metrics"]["n_eval"] == 40
    assert new["metrics"]["accuracy_ci"] == pytest.approx([0.7695, 0.9604], abs=1e-4)  # Wilson, 36 of 40
    assert "eval_outcomes" not in new["metrics"]  # hundreds of tasks per version: not in the status
    assert (old["vs_previous"], new["vs_previous"]) == (None, "better (p = 3.1e-05, 40 tasks)")
    json.dumps(payload)

    monkeypatch.setattr(cli, "_gateway", lambda args: FakeGateway())
    monkeypatch.setattr(cli, "History", lambda url, server: history)
    assert cli.main(["status", "--project", "2"]) == 0
    out = capsys.readouterr().out
    assert f"{first:<22} succeeded  labeled=20     accuracy=0.500 [0.352, 0.648] n_eval=40" in out
    assert "accuracy=0.900 [0.769, 0.960] n_eval=40 vs previous: better (p = 3.1e-05, 40 tasks)" in out
    assert (
        f"Latest measured version {second}: 90.0% on 40 evaluation labels (±10 points: 95% interval 77%-96%; "
        "about 101 more evaluation labels for ±5 points)" in out
    )


def test_status_says_who_runs_what_and_why_the_last_run_failed(history: History) -> None:
    payload = status_payload(FakeGateway(), history, 1)  # type: ignore[arg-type]
    assert payload["run_lock"] is None, "no process holds the lock: the running record was interrupted"
    assert [(a["model_version"], a["kind"]) for a in payload["activity"]] == [
        ("al-0002", "interrupted"),
        ("al-0001", "failed"),
    ]

    with history.run_lock(1, "the webhook receiver"):
        running = history.start_iteration(1, None, {"strategy": "margin"}, "webhook")
        history.set_step(running.id, "embed")
        payload = status_payload(FakeGateway(), history, 1)  # type: ignore[arg-type]
        history.finish_iteration(running.id, status="failed", error="The 'control' parameter is wrong.")
    assert payload["run_lock"]["owner"] == "the webhook receiver" and payload["run_lock"]["since"].endswith("Z")
    first = payload["activity"][0]
    assert (first["model_version"], first["kind"]) == ("al-0003", "running")
    assert "running since" in first["text"] and "step: embed, started by the webhook receiver" in first["text"]

    after = status_payload(FakeGateway(), history, 1)  # type: ignore[arg-type]
    assert after["run_lock"] is None
    assert after["activity"][-1]["kind"] == "failed"
    assert after["activity"][-1]["text"].endswith(
        "(step: embed, started by webhook): The 'control' parameter is wrong."
    )
    json.dumps(after)


def test_status_names_the_choices_and_the_one_each_run_and_the_automation_learn(
    history: History, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway = FakeGateway(TWO_CHOICES)
    ran_settings = {"strategy": "margin", "control": "subtopic", "model": "minilm-logreg", "model_by_classes": 3}
    ran = history.start_iteration(3, 12, ran_settings, "cli")
    history.finish_iteration(ran.id, status="succeeded", counts={"n_labeled": 12})
    payload = status_payload(gateway, history, 3)  # type: ignore[arg-type]
    assert payload["controls"] == ["topic", "subtopic"]
    assert payload["iterations"][0]["control"] == "subtopic" and payload["automation"]["control"] is None
    assert (payload["iterations"][0]["model"], payload["iterations"][0]["model_by_classes"]) == ("minilm-logreg", 3)
    history.save_automation(3, every=5, settings={"control": "topic"})
    payload = status_payload(gateway, history, 3)  # type: ignore[arg-type]
    assert payload["automation"]["control"] == "topic" and payload["automation"]["settings"] == {"control": "topic"}
    json.dumps(payload)

    monkeypatch.setattr(cli, "_gateway", lambda args: gateway)
    monkeypatch.setattr(cli, "History", lambda url, server: history)
    assert cli.main(["status", "--project", "3"]) == 0
    out = capsys.readouterr().out
    assert "<Choices> over text: topic, subtopic (iterate --control NAME chooses one)" in out
    assert "Automation: every=5 counted_since_last_version=0 last_trigger=None control=topic" in out
    assert f"{ran.model_version:<22} succeeded  labeled=12     accuracy=- model=minilm-logreg control=subtopic" in out


def test_status_refuses_a_history_of_another_server(history: History) -> None:
    class Elsewhere(FakeGateway):
        url = "https://ls.example.com"

    with pytest.raises(ConfigError, match=r"history of the Label Studio at http://127.0.0.1:8080 was given for"):
        status_payload(Elsewhere(), history, 1)  # type: ignore[arg-type]
