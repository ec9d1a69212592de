"""What ``python -m al_core status`` reports about one project of one Label Studio server: the JSON payload of
``status --json`` (a stable interface: keys are only ever added) and the lines of its text form.

Counts come from Label Studio, everything else from the server's history: its iterations (with the paired test
against the previous version), the run lock's holder, what runs or failed, the automation settings and counter,
and which ``<Choices>`` the model learns when the labeling config has several.
"""

from __future__ import annotations

from typing import Any

from al_core.errors import LabelConfigError
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import choices_controls
from al_core.reports import version_summary
from al_core.reports.activity import activity
from al_core.store.history import History, LockHolder
from al_core.store.records import BIASED_SAMPLE_NOTE, IterationRecord, StoredMetrics
from al_core.store.rows import utcnow


def iteration_payload(it: IterationRecord, vs_previous: str | None = None) -> dict[str, Any]:
    """One iteration in ``status --json``: ``n_labeled`` is null while a running iteration has not read its
    labels; ``metrics`` is ``{}`` for a running, failed or cold-start one (``accuracy_ci`` is ``[low, high]``, the
    95% interval; the per-task ``eval_outcomes`` are left out); ``step`` is the running step; ``vs_previous`` is
    McNemar's paired test against the previous measured version (``better (p = 0.01, 40 tasks)``), or null;
    ``model`` is the model it trained and ``model_by_classes`` the number of classes it was chosen for when
    nobody chose one (null: chosen)."""
    metrics = {k: v for k, v in it.metrics.to_json().items() if k != "eval_outcomes"}
    return {
        "model_version": it.model_version,
        "status": it.status,
        "n_labeled": it.n_labeled,
        "metrics": metrics,
        "vs_previous": vs_previous,
        "error": it.error,
        "trigger": it.trigger,
        "started_at": it.started_at.isoformat() + "Z",
        "finished_at": it.finished_at.isoformat() + "Z" if it.finished_at else None,
        "step": it.step,
        "state": it.state_text(),
        "control": it.settings.control,
        "model": it.settings.model,
        "model_by_classes": it.settings.model_by_classes,
    }


def lock_payload(holder: LockHolder | None) -> dict[str, Any] | None:
    """``run_lock`` in ``status --json``: who holds the project's run lock (null when no run holds it)."""
    if holder is None:
        return None
    return {
        "owner": holder.owner,
        "host": holder.host,
        "pid": holder.pid,
        "since": holder.acquired_at.isoformat() + "Z",
        "heartbeat_at": holder.heartbeat_at.isoformat() + "Z",
    }


def status_payload(gateway: Gateway, history: History, project_id: int) -> dict[str, Any]:
    """What ``status --json`` prints. ``activity`` has one sentence per running iteration (who runs it since
    when, which step) and for the last one when it failed (its error); ``run_lock`` is the lock's holder.
    ``controls`` names the config's ``<Choices>`` over text (with several, ``iterate --control`` chooses);
    ``automation.control`` is the one automatic runs learn (null: not chosen); ``server`` is the Label Studio
    server the project and its history belong to."""
    history.check_server(gateway.url)
    project = gateway.get_project(project_id)
    records = history.iterations(project_id)
    holder = history.lock_holder(project_id)
    versus = version_summary.versus_previous(records)
    iterations = [iteration_payload(it, versus.get(it.model_version)) for it in records]
    auto = history.automation(project_id)
    triggers = history.events(project_id, "trigger", limit=1)
    automation = {
        "every": auto.every if auto else None,
        "counted_since_last_version": auto.counted if auto else 0,
        "settings": auto.settings if auto else {},
        "last_trigger": {"at": triggers[0].at.isoformat() + "Z", **triggers[0].detail} if triggers else None,
        "control": (auto.settings.get("control") if auto else None) or None,
    }
    return {
        "project": project_id,
        "server": history.server,
        "controls": list(controls(project.label_config)),
        "title": project.title,
        "model_version": project.model_version or None,
        "sampling": project.sampling,
        "tasks": project.task_number,
        "labeled": project.num_tasks_with_annotations,
        "eval_set": len(history.eval_set(project_id)),
        "automation": automation,
        "iterations": iterations,
        "run_lock": lock_payload(holder),
        "activity": [
            {"model_version": a.model_version, "kind": a.kind, "text": a.text}
            for a in activity(records, holder, utcnow())
        ],
    }


def controls(label_config: str) -> tuple[str, ...]:
    """The names of the config's ``<Choices>`` over text; none when the config cannot be read."""
    try:
        return choices_controls(label_config)
    except LabelConfigError:
        return ()


def status_lines(payload: dict[str, Any]) -> list[str]:
    """What ``status`` prints without ``--json``: the project, its automation, activity and every iteration."""
    lines = [
        f"Project {payload['project']} ({payload['title']}): {payload['tasks']} tasks, {payload['labeled']} labeled, "
        f"evaluation set {payload['eval_set']}, model_version={payload['model_version']}, sampling={payload['sampling']}"
    ]
    if len(payload["controls"]) > 1:
        lines.append(f"<Choices> over text: {', '.join(payload['controls'])} (iterate --control NAME chooses one)")
    a = payload["automation"]
    lines.append(
        f"Automation: every={a['every']} counted_since_last_version={a['counted_since_last_version']} "
        f"last_trigger={a['last_trigger']}" + (f" control={a['control']}" if a["control"] else "")
    )
    lines += [f"{item['kind'].capitalize()}: {item['text']}" for item in payload["activity"]]
    for it in payload["iterations"]:
        labeled = "-" if it["n_labeled"] is None else it["n_labeled"]
        note = it["state"] if it["status"] == "running" else it["error"] or ""
        versus = f" vs previous: {it['vs_previous']}" if it.get("vs_previous") else ""
        learned = (f" model={it['model']}" if it.get("model") else "") + (
            f" control={it['control']}" if it["control"] else ""
        )
        lines.append(
            f"  {it['model_version']:<22} {it['status']:<10} labeled={labeled:<6} {accuracy_text(it)}{versus}"
            f"{learned} {note}"
        )
    measured = [it for it in payload["iterations"] if it["status"] == "succeeded" and "accuracy" in it["metrics"]]
    if measured:
        latest = StoredMetrics.from_json(measured[-1]["metrics"])
        lines.append(
            f"Latest measured version {measured[-1]['model_version']}: {version_summary.accuracy_caption(latest)}"
        )
    return lines


def accuracy_text(it: dict[str, Any]) -> str:
    """``accuracy=0.742 [0.598, 0.858] n_eval=40``: the accuracy, its 95% interval and the evaluation labels."""
    acc, ci, n_eval = it["metrics"].get("accuracy"), it["metrics"].get("accuracy_ci"), it["metrics"].get("n_eval")
    if not isinstance(acc, float):
        return "accuracy=-"
    interval = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if isinstance(ci, list) and len(ci) == 2 else ""
    biased = f" ({BIASED_SAMPLE_NOTE})" if it["metrics"].get("eval_sample") != "random" else ""
    return f"accuracy={acc:.3f}{interval} n_eval={n_eval}{biased}"
