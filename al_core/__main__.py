"""Headless use: ``python -m al_core iterate | status | prune | rollback | serve-webhooks``.

Stable interface (scripts depend on it): flags and the JSON keys of ``iterate --json`` and
``status --json``. ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY`` work in place of the flags and
``AL_DB_URL`` selects the history database. A failure exits non-zero with a one-line message.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from al_core import settings as app_settings
from al_core.automation.registration import DEFAULT_EVERY
from al_core.context import default_of
from al_core.errors import ALError, ConfigError
from al_core.iteration import IterationSettings, run_iteration
from al_core.labelstudio.gateway import Gateway
from al_core.learning.models import MODELS
from al_core.learning.strategies import STRATEGIES
from al_core.pruning import history_present, prune_after_run, prune_recorded
from al_core.reports.activity import activity
from al_core.store.history import History
from al_core.store.records import IterationRecord, LockHolder
from al_core.store.rows import utcnow
from al_core.store.versions import rollback


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
    it.add_argument("--no-prune", action="store_true", help="do not prune old versions in the background")
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

    wh = sub.add_parser("serve-webhooks", help="receive Label Studio webhooks and iterate automatically")
    _connection_args(wh)
    wh.add_argument("--host", default="127.0.0.1")
    wh.add_argument("--port", type=int, default=app_settings.WEBHOOK_PORT)
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
        trigger="cli",
    )

    def progress(step: str, fraction: float, message: str) -> None:
        if not args.json and fraction == 0.0:
            print(f"  {step:<9} {message}", file=sys.stderr, flush=True)

    result = run_iteration(
        gateway, history, args.project, settings, on_progress=progress, owner=f"the CLI (pid {os.getpid()})"
    )
    if not args.no_prune:  # the CLI exits now: a detached process prunes
        prune_after_run(gateway, history, args.project, settings.keep_versions, outlive_process=True)
    if args.json:
        keys = ("model_version", "n_labeled", "n_unlabeled", "n_scored", "n_predictions", "metrics", "timings")
        out = {k: getattr(result, k) for k in keys}
        out.update(
            project=result.project_id, status=result.status, message=result.message, cold_start=result.cold_start
        )
        print(json.dumps(out))
    else:
        print(result.message)
        print(
            f"model_version={result.model_version} labeled={result.n_labeled} unlabeled={result.n_unlabeled} "
            f"scored={result.n_scored} predictions={result.n_predictions}"
        )
        print("timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()))
    return 0


def iteration_payload(it: IterationRecord) -> dict[str, Any]:
    """One iteration in ``status --json``: ``n_labeled`` is null while a running iteration has not read its
    labels; ``metrics`` is ``{}`` for a running, failed or cold-start one; ``step`` is the running step."""
    return {
        "model_version": it.model_version,
        "status": it.status,
        "n_labeled": it.n_labeled,
        "metrics": it.metrics.to_json(),
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
    iterations = [iteration_payload(it) for it in records]
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
        acc = it["metrics"].get("accuracy")
        shown = f"accuracy={acc:.3f}" if isinstance(acc, float) else "accuracy=-"
        labeled = "-" if it["n_labeled"] is None else it["n_labeled"]
        note = it["state"] if it["status"] == "running" else it["error"] or ""
        print(f"  {it['model_version']:<22} {it['status']:<10} labeled={labeled:<6} {shown} {note}")
    return 0


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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        "iterate": _iterate,
        "status": _status,
        "prune": _prune,
        "rollback": _rollback,
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
