"""Headless use: ``python -m al_core iterate | status | automation | export-predictions | label-issues | prune |
rollback | serve-webhooks``.

Stable interface (scripts depend on it): flags and the JSON keys of ``iterate --json``, ``status --json``,
``automation --json`` and ``label-issues --json`` (keys are only ever added). ``LABEL_STUDIO_URL`` /
``LABEL_STUDIO_API_KEY`` work in place of the flags and ``AL_DB_URL`` selects the history database; what is kept
there belongs to the Label Studio server connected to. Every setting of the dashboard's Active learning page is an
``iterate`` flag and can be stored for the webhook receiver with ``automation``. A failure exits non-zero with a
one-line message.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from al_core import export
from al_core import settings as app_settings
from al_core.automation import registration
from al_core.automation.registration import DEFAULT_EVERY
from al_core.context import MODEL_BY_CLASSES, MODEL_RULE, default_of, model_choice, model_setting, model_text
from al_core.errors import ALError, ConfigError
from al_core.iteration import IterationSettings, run_iteration
from al_core.labelstudio.gateway import Gateway
from al_core.learning import devices
from al_core.learning.models import MODELS
from al_core.learning.strategies import STRATEGIES
from al_core.pruning import DETACHED_LIFETIME_S, history_present, prune_after_run, prune_recorded, until
from al_core.reports.status import controls, status_lines, status_payload
from al_core.store.history import History
from al_core.store.versions import rollback
from al_core.validation import check_int

SETTINGS_FLAGS = (
    "model",
    "strategy",
    "upload_top",
    "diversity",
    "eval_size",
    "keep_versions",
    "control",
    "dask_scheduler",
)


def _connection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="Label Studio URL (default: $LABEL_STUDIO_URL or the local server)")
    p.add_argument("--api-key", help="API key (default: $LABEL_STUDIO_API_KEY or the local server's)")


def _settings_args(p: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Every setting of the Active learning page as a flag (``SETTINGS_FLAGS``): ``iterate``'s with their
    defaults, ``automation``'s without (a flag not given keeps what is stored)."""
    default = default_of if defaults else lambda _name: None
    p.add_argument("--strategy", default=default("strategy"), choices=STRATEGIES)
    p.add_argument(
        "--model",
        choices=[MODEL_BY_CLASSES, *sorted(MODELS)],
        help=f"default: $AL_MODEL, else {MODEL_BY_CLASSES}: {MODEL_RULE}",
    )
    top_help = "predictions for the K most wanted tasks; 0 = all"
    p.add_argument("--upload-top", type=int, default=default("upload_top"), help=top_help)
    diversity_help = "diversity-aware batch order (k-means round robin; the default)"
    p.add_argument(
        "--diversity", action=argparse.BooleanOptionalAction, default=default("diversity"), help=diversity_help
    )
    eval_help = "evaluation-set size (fixed at the first iteration)"
    p.add_argument("--eval-size", type=int, default=default("eval_size"), help=eval_help)
    p.add_argument("--keep-versions", type=int, default=default("keep_versions"))
    control_help = "the <Choices> the model learns when the labeling config has several (status names them)"
    p.add_argument("--control", default=default("control"), help=control_help)
    dask_help = "embed and score on this Dask cluster (tcp://HOST:PORT; default: $AL_DASK_SCHEDULER, else this process)"
    p.add_argument("--dask-scheduler", default=default("dask_scheduler"), help=dask_help)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m al_core", description="Active learning for Label Studio")
    sub = parser.add_subparsers(dest="command", required=True)

    it = sub.add_parser("iterate", help="run one active-learning iteration")
    _connection_args(it)
    it.add_argument("--project", type=int, required=True)
    _settings_args(it, defaults=True)
    it.add_argument("--no-prune", action="store_true", help="do not prune old versions in the background")
    it.add_argument(
        "--force", action="store_true", help="run even when no label changed since the last version (a re-run)"
    )
    it.add_argument("--json", action="store_true", help="print one JSON object")

    st = sub.add_parser("status", help="the project's counts and iterations")
    _connection_args(st)
    st.add_argument("--project", type=int, required=True)
    st.add_argument("--json", action="store_true")

    au = sub.add_parser(
        "automation", help="show or store the settings of the project's automatic iterations (webhook receiver)"
    )
    _connection_args(au)
    au.add_argument("--project", type=int, required=True)
    au.add_argument("--every", type=int, help="iterate after this many new annotations")
    _settings_args(au, defaults=False)
    au.add_argument("--register", action="store_true", help="register the receiver's webhook on the project")
    au.add_argument("--unregister", action="store_true", help="remove the receiver's webhook from the project")
    au.add_argument("--json", action="store_true")

    pr = sub.add_parser("prune", help="delete old versions' predictions (slow; normally run in the background)")
    _connection_args(pr)
    pr.add_argument("--project", type=int, required=True)
    pr.add_argument("--keep", type=int, default=default_of("keep_versions"))
    pr.add_argument("--max-seconds", type=float, default=None, help="stop after this long (what is left: next prune)")
    pr.add_argument(
        "--detached",
        action="store_true",
        help=f"as the background pruner of `iterate`: --max-seconds defaults to {DETACHED_LIFETIME_S}",
    )

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
    li.add_argument("--agreement", action="store_true", help="also: agreement between annotators, by name")

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


def _clients(args: argparse.Namespace) -> tuple[Gateway, History]:
    """The Label Studio connected to and its history (project ids belong to one server)."""
    gateway = _gateway(args)
    return gateway, History(app_settings.db_url(), server=gateway.url)


def _iterate(args: argparse.Namespace) -> int:
    gateway, history = _clients(args)
    chosen = {"model": model_setting(args.model)} if args.model else {}  # else the default: AL_MODEL, else auto
    settings = IterationSettings(
        **chosen,
        strategy=args.strategy,
        upload_top=args.upload_top,
        diversity=args.diversity,
        eval_size=args.eval_size,
        keep_versions=args.keep_versions,
        control=args.control or None,
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
        out.update(labeling_url=result.labeling_url, model=result.model, model_by_classes=result.model_by_classes)
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
        if result.model_by_classes is not None:  # said once: the model (in the message) was chosen by this rule
            print(f"model: {model_text(result.model, result.model_by_classes)}")
        print("timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()))
    return 0


def _status(args: argparse.Namespace) -> int:
    payload = status_payload(*_clients(args), args.project)
    print(json.dumps(payload) if args.json else "\n".join(status_lines(payload)))
    return 0


def _prune(args: argparse.Namespace) -> int:
    db_url = app_settings.db_url()
    present = history_present(db_url)
    if not present():  # never recreate a deleted history (a detached pruner outliving its data)
        print(f"Nothing pruned: there is no history database at {db_url} (deleted, or no iteration ran here).")
        return 0
    max_seconds = DETACHED_LIFETIME_S if args.detached and args.max_seconds is None else args.max_seconds
    keep_going = present if max_seconds is None else until(time.monotonic() + max_seconds, present)
    gateway = _gateway(args)
    history = History(db_url, server=gateway.url)
    pruned = prune_recorded(gateway, history, args.project, args.keep, keep_going=keep_going)
    print(f"Pruned {len(pruned)} version(s): {', '.join(pruned) or 'none'}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    rollback(*_clients(args), args.project, args.version, who="CLI")
    print(f"Project {args.project} now serves model version {args.version}.")
    return 0


def _automation(args: argparse.Namespace) -> int:
    """Store the settings given (the others stay as stored), register or remove the webhook, print the state."""
    gateway, history = _clients(args)
    project = gateway.get_project(args.project)
    chosen = {name: getattr(args, name) for name in SETTINGS_FLAGS if getattr(args, name) is not None}
    if "model" in chosen:  # auto is stored as no model (null): by the number of classes at every run
        chosen["model"] = model_setting(chosen["model"])
    if args.every is not None or chosen:
        registration.update_settings(history, project, every=args.every, chosen=chosen)
    receiver = app_settings.webhook_url()
    if args.register:
        registration.register(gateway, project.id, receiver, app_settings.webhook_secret() or "")
    if args.unregister:
        registration.remove(gateway, project.id, receiver)
    now = registration.state(gateway, history, project.id, receiver)
    out = {"project": project.id, "server": history.server, "every": now.every, "settings": now.settings}
    out.update(counted_since_last_version=now.counted, receiver=receiver, webhook_registered=bool(now.webhooks))
    out.update(controls=list(controls(project.label_config)))
    if args.json:
        print(json.dumps(out))
        return 0
    shown = " ".join(f"{k}={model_choice(v) if k == 'model' else v}" for k, v in now.settings.items())
    shown = shown or "(the defaults)"
    print(f"Project {project.id}: an automatic iteration every {now.every} new annotations with {shown}")
    print(f"Webhook to {receiver}: {'registered' if now.webhooks else 'not registered (--register)'}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from al_core.automation.receiver import serve

    return serve(args)


def _export(args: argparse.Namespace) -> int:
    gateway, history = _clients(args)

    def progress(done: int, total: int) -> None:
        print(f"  predicted {done:,} of {total:,} tasks", file=sys.stderr, flush=True)

    result = export.export_predictions(gateway, history, args.project, args.version, on_progress=progress)
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

    gateway, history = _clients(args)
    found = quality.find_label_issues(gateway, history, args.project, on_progress=progress)
    shown = found.top(args.top or None)
    report = quality.annotator_agreement(gateway, args.project) if args.agreement else None
    if args.json:
        agreed = {"agreement": report.to_json()} if report else {}
        print(json.dumps({**shown.to_json(), "n_issues": len(found.issues), **agreed}))
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
    for line in report.lines() if report else []:
        print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        "iterate": _iterate,
        "status": _status,
        "automation": _automation,
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
