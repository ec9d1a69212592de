"""Headless use: ``python -m al_core iterate | status | export-predictions | label-issues | prune | rollback |
serve-webhooks``.

Stable interface (scripts depend on it): flags and the JSON keys of ``iterate --json``, ``status --json`` and
``label-issues --json``. ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY`` work in place of the flags and
``AL_DB_URL`` selects the history database. A failure exits non-zero with a one-line message.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from al_core import export
from al_core import settings as app_settings
from al_core.automation.registration import DEFAULT_EVERY
from al_core.context import default_of
from al_core.errors import ALError, ConfigError
from al_core.iteration import IterationSettings, run_iteration
from al_core.labelstudio.gateway import Gateway
from al_core.learning import devices
from al_core.learning.models import MODELS
from al_core.learning.strategies import STRATEGIES
from al_core.pruning import history_present, prune_after_run, prune_recorded
from al_core.reports import version_summary
from al_core.reports.activity import activity
from al_core.store.history import History, LockHolder
from al_core.store.records import BIASED_SAMPLE_NOTE, IterationRecord, StoredMetrics
from al_core.store.rows import utcnow
from al_core.store.versions import rollback
from al_core.validation import check_int


def _connection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="Label Studio URL (default: $LABEL_STUDIO_URL or the local server)")
    p.add_argument("--api-key", help="API key (default: $LABEL_STUDIO_API_KEY or the local server's)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m al_core", description="Active learning for Label Studio")
    sub = parser.add_subparsers(dest="command", required=True)

    it = sub.add_parser("iterate", help="run one active-learning iteration")
    _connection_args(it)
    it.add_argument("--project", type=int, required=True)
    it.add_argument("--strategy", default=default_of("strategy"), choices=STRATEGIES)
    it.add_argument(
        "--model",
        choices=sorted(MODELS),
        help="default: $AL_MODEL, else minilm-logreg with the embedding extra installed, else tfidf-logreg",
    )
    it.add_argument(
        "--upload-top",
        type=int,
        default=default_of("upload_top"),
        help="predictions for the K most wanted tasks; 0 = all",
    )
    it.add_argument(
        "--diversity",
        action=argparse.BooleanOptionalAction,
        default=default_of("diversity"),
        help="diversity-aware batch order (k-means round robin; the default)",
    )
    it.add_argument(
        "--eval-size",
        type=int,
        default=default_of("eval_size"),
        help="evaluation-set size (fixed at the first iteration)",
    )
    it.add_argument("--keep-versions", type=int, default=default_of("keep_versions"))
    it.add_argument(
        "--dask-scheduler",
        default=default_of("dask_scheduler"),
        help="embed and score on this Dask cluster (tcp://HOST:PORT; default: $AL_DASK_SCHEDULER, else this process)",
    )
    it.add_argument("--no-prune", action="store_true", help="do not prune old versions in the background")
    it.add_argument(
        "--force", action="store_true", help="run even when no label changed since the last version (a re-run)"
    )
    it.add_argument("--json", action="store_true", help="print one JSON object")

    st = sub.add_parser("status", help="the project's counts and iterations")
    _connection_args(st)
    st.add_argument("--project", type=int, required=True)
    st.add_argument("--json", action="store_true")

    pr = sub.add_parser("prune", help="delete old versions' predictions (slow; normally run in the background)")
    _connection_args(pr)
    pr.add_argument("--project", type=int, required=True)
    pr.add_argument("--keep", type=int, default=default_of("keep_versions"))

    rb = sub.add_parser("rollback", help="switch the queue back to a kept model version")
    _connection_args(rb)
    rb.add_argument("--project", type=int, required=True)
    rb.add_argument("--version", required=True)

    ex = sub.add_parser("export-predictions", help="one model version's prediction for every task (CSV or JSONL)")
    _connection_args(ex)
    ex.add_argument("--project", type=int, required=True)
    ex.add_argument("--version", default=None, help="a kept model version (default: the project's current one)")
    ex.add_argument("--out", required=True, help="the file to write: JSON Lines when it ends in .jsonl, else CSV")

    li = sub.add_parser("label-issues", help="labeled tasks whose label the model finds least likely (review them)")
    _connection_args(li)
    li.add_argument("--project", type=int, required=True)
    li.add_argument("--top", type=int, default=20, help="show the N most likely errors (default 20; 0 = all)")
    li.add_argument("--json", action="store_true", help="print one JSON object")

    wh = sub.add_parser("serve-webhooks", help="receive Label Studio webhooks and iterate automatically")
    _connection_args(wh)
    wh.add_argument("--host", default="127.0.0.1")
    wh.add_argument("--port", type=int, default=None, help="default: $AL_WEBHOOK_PORT, else 8765")
    wh.add_argument("--secret", default=None, help="shared secret (default: $AL_WEBHOOK_SECRET)")
    wh.add_argument("--every", type=int, default=DEFAULT_EVERY, help="iterate after this many new annotations")
    return parser


def _gateway(args: argparse.Namespace) -> Gateway:
    conn = app_settings.default_connection(args.url, args.api_key)
    if conn is None:
        raise ConfigError(
            "No Label Studio configured: pass --url and --api-key or set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY."
        )
    return Gateway(conn.url, conn.api_key)


def _iterate(args: argparse.Namespace) -> int:
    gateway, history = _gateway(args), History(app_settings.db_url())
    chosen = {"model": args.model} if args.model else {}  # else the settings' default (AL_MODEL, extras)
    settings = IterationSettings(
        **chosen,
        strategy=args.strategy,
        upload_top=args.upload_top,
        diversity=args.diversity,
        eval_size=args.eval_size,
        keep_versions=args.keep_versions,
        dask_scheduler=args.dask_scheduler,
        trigger="cli",
    )
    devices.requested_device()  # a bad AL_DEVICE is refused now, in one line, before anything runs

    def progress(step: str, fraction: float, message: str) -> None:
        if not args.json and fraction == 0.0:
            print(f"  {step:<9} {message}", file=sys.stderr, flush=True)

    result = run_iteration(
        gateway,
        history,
        args.project,
        settings,
        on_progress=progress,
        owner=f"the CLI (pid {os.getpid()})",
        force=args.force,
    )
    if not args.no_prune and result.status != "skipped":  # the CLI exits now: a detached process prunes
        prune_after_run(gateway, history, args.project, settings.keep_versions, outlive_process=True)
    if args.json:
        keys = ("model_version", "n_labeled", "n_unlabeled", "n_scored", "n_predictions", "metrics", "timings")
        out = {k: getattr(result, k) for k in keys}
        out.update(
            project=result.project_id, status=result.status, message=result.message, cold_start=result.cold_start
        )
        out.update(labeling_url=result.labeling_url)
        out["warnings"] = result.warnings
        print(json.dumps(out))
    elif result.status == "skipped":  # exit 0: nothing to do is not an error
        print(result.message)
    else:
        print(result.message)
        for warning in result.warnings:
            print(f"warning: {warning}")
        print(
            f"model_version={result.model_version} labeled={result.n_labeled} unlabeled={result.n_unlabeled} "
            f"scored={result.n_scored} predictions={result.n_predictions}"
        )
        print("timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()))
    return 0


def iteration_payload(it: IterationRecord, vs_previous: str | None = None) -> dict[str, Any]:
    """One iteration in ``status --json``: ``n_labeled`` is null while a running iteration has not read its
    labels; ``metrics`` is ``{}`` for a running, failed or cold-start one (``accuracy_ci`` is ``[low, high]``, the
    95% interval; the per-task ``eval_outcomes`` are left out); ``step`` is the running step; ``vs_previous`` is
    McNemar's paired test against the previous measured version (``better (p = 0.01, 40 tasks)``), or null."""
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
    when, which step) and for the last one when it failed (its error); ``run_lock`` is the lock's holder."""
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
    }
    return {
        "project": project_id,
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


def _status(args: argparse.Namespace) -> int:
    payload = status_payload(_gateway(args), History(app_settings.db_url()), args.project)
    if args.json:
        print(json.dumps(payload))
        return 0
    print(
        f"Project {payload['project']} ({payload['title']}): {payload['tasks']} tasks, {payload['labeled']} labeled, "
        f"evaluation set {payload['eval_set']}, model_version={payload['model_version']}, sampling={payload['sampling']}"
    )
    a = payload["automation"]
    print(
        f"Automation: every={a['every']} counted_since_last_version={a['counted_since_last_version']} "
        f"last_trigger={a['last_trigger']}"
    )
    for item in payload["activity"]:
        print(f"{item['kind'].capitalize()}: {item['text']}")
    for it in payload["iterations"]:
        labeled = "-" if it["n_labeled"] is None else it["n_labeled"]
        note = it["state"] if it["status"] == "running" else it["error"] or ""
        versus = f" vs previous: {it['vs_previous']}" if it.get("vs_previous") else ""
        print(
            f"  {it['model_version']:<22} {it['status']:<10} labeled={labeled:<6} {_accuracy_text(it)}{versus} {note}"
        )
    measured = [it for it in payload["iterations"] if it["status"] == "succeeded" and "accuracy" in it["metrics"]]
    if measured:
        latest = StoredMetrics.from_json(measured[-1]["metrics"])
        print(f"Latest measured version {measured[-1]['model_version']}: {version_summary.accuracy_caption(latest)}")
    return 0


def _accuracy_text(it: dict[str, Any]) -> str:
    """``accuracy=0.742 [0.598, 0.858] n_eval=40``: the accuracy, its 95% interval and the evaluation labels."""
    acc, ci, n_eval = it["metrics"].get("accuracy"), it["metrics"].get("accuracy_ci"), it["metrics"].get("n_eval")
    if not isinstance(acc, float):
        return "accuracy=-"
    interval = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if isinstance(ci, list) and len(ci) == 2 else ""
    biased = f" ({BIASED_SAMPLE_NOTE})" if it["metrics"].get("eval_sample") != "random" else ""
    return f"accuracy={acc:.3f}{interval} n_eval={n_eval}{biased}"


def _prune(args: argparse.Namespace) -> int:
    db_url = app_settings.db_url()
    present = history_present(db_url)
    if not present():  # never recreate a deleted data folder (a detached pruner outliving its data)
        print(f"Nothing pruned: the history database's folder is gone ({db_url}).")
        return 0
    pruned = prune_recorded(_gateway(args), History(db_url), args.project, args.keep, keep_going=present)
    print(f"Pruned {len(pruned)} version(s): {', '.join(pruned) or 'none'}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    rollback(_gateway(args), History(app_settings.db_url()), args.project, args.version, who="CLI")
    print(f"Project {args.project} now serves model version {args.version}.")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from al_core.automation.receiver import serve

    return serve(args)


def _export(args: argparse.Namespace) -> int:
    gateway = _gateway(args)

    def progress(done: int, total: int) -> None:
        print(f"  predicted {done:,} of {total:,} tasks", file=sys.stderr, flush=True)

    result = export.export_predictions(
        gateway, History(app_settings.db_url()), args.project, args.version, on_progress=progress
    )
    path = export.write(result, args.out)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Wrote {len(result.rows):,} predictions of {result.model_version} to {path}.")
    return 0


def _label_issues(args: argparse.Namespace) -> int:
    from al_core import quality  # loads scikit-learn: only for this command
    from al_core.reports.mistakes import excerpt

    check_int("top", args.top, 0)

    def progress(step: str, fraction: float, message: str) -> None:
        if not args.json and fraction == 0.0:
            print(f"  {step:<14} {message}", file=sys.stderr, flush=True)

    found = quality.find_label_issues(
        _gateway(args), History(app_settings.db_url()), args.project, on_progress=progress
    )
    shown = found.top(args.top or None)
    if args.json:
        print(json.dumps({**shown.to_json(), "n_issues": len(found.issues)}))
        return 0
    print(
        f"Project {found.project_id}: {len(found.issues):,} likely label error(s) among {found.n_ranked:,} ranked "
        f"labeled tasks ({found.model}, {found.folds}-fold out-of-fold, confident learning); "
        f"{found.n_reviewed_hidden:,} reviewed ones hidden."
    )
    for warning in found.warnings:
        print(f"warning: {warning}")
    for issue in shown.issues:
        print(
            f"  task {issue.task_id:<8} score={issue.score:.3f} given={issue.given!r} suggested={issue.suggested!r} "
            f"{excerpt(issue.text, 80)}"
        )
    if len(shown.issues) < len(found.issues):
        print(f"  ... {len(found.issues) - len(shown.issues):,} more (--top 0 shows all).")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        "iterate": _iterate,
        "status": _status,
        "prune": _prune,
        "rollback": _rollback,
        "export-predictions": _export,
        "label-issues": _label_issues,
        "serve-webhooks": _serve,
    }
    try:
        return handlers[args.command](args)
    except ALError as err:
        print(f"error: {err}".splitlines()[0], file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001 - a CLI prints one line, never a traceback
        print(f"error: unexpected {type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
