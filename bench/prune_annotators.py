"""What a prune of an old model version does to the people labeling, against a real Label Studio on SQLite.

For each way of pruning (``old``: Label Studio's version delete in one request, the pruner's former way;
``B/P``: the pruner's paced way, B predictions deleted one request each, then a pause of P seconds), one
fresh project with ``--tasks`` tasks, a current version predicted on every task (the queue) and an old
version with ``--old`` predictions. Simulated annotators (``--annotators`` threads, each its own loop)
ask ``GET /api/projects/ID/next`` and submit an annotation, continuously (``--think`` seconds between
tasks), first for ``--baseline`` seconds with nothing else running, then during the whole prune. Their
requests are sent WITHOUT retries (as a browser sends them): a failed one is counted, with its status.

    python -m bench.prune_annotators [--tasks 20000] [--old 20000] [--paces old,10/1.0,50/0.5]
                                     [--annotators 1] [--think 0] [--baseline 30] [--json OUT]

Reported per way: the annotators' requests, failures (and the error rate), latency p50/p95/max during the
prune (and in the baseline), and the prune's total time. Starts a Label Studio on a free port with a
temporary data dir (or uses ``LABEL_STUDIO_URL`` with ``LABEL_STUDIO_API_KEY``); stops what it started.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from al_core.labelstudio.gateway import UNCERTAINTY_SAMPLING, Gateway
from al_core.labelstudio.label_config import TEMPLATES, parse_label_config, prediction_result
from al_core.pruning import Pacing, delete_version_paced
from bench.latency import Timer, _connect, _engine, _version, machine

log = logging.getLogger("bench.prune_annotators")
CONFIG = TEMPLATES["sentiment"]
LABELS = ("Positive", "Negative", "Neutral")


def parse_pace(text: str) -> Pacing:
    """``old`` -> the version delete in one request (batch 0); ``B/P`` -> batches of B, P seconds apart."""
    if text == "old":
        return Pacing(batch=0, pause=0.0)
    try:
        batch, pause = text.split("/")
        return Pacing(batch=int(batch), pause=float(pause))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"A pace is 'old' or BATCH/PAUSE such as 10/1.0. Got {text!r}.") from err


def pace_name(pacing: Pacing) -> str:
    return "old (one version delete)" if pacing.batch == 0 else f"{pacing.batch} per batch, {pacing.pause:g} s pause"


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by the nearest-rank method; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Calls:
    """What the simulated annotators saw: (seconds, ok, what) per request, in order."""

    rows: list[tuple[float, bool, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, ok: bool, what: str) -> None:
        with self.lock:
            self.rows.append((seconds, ok, what))

    def summary(self) -> dict[str, Any]:
        with self.lock:
            rows = list(self.rows)
        times = [s for s, _, _ in rows]
        errors = [w for _, ok, w in rows if not ok]
        return {
            "requests": len(rows),
            "failed": len(errors),
            "error_rate": round(len(errors) / len(rows), 4) if rows else None,
            "errors": sorted(set(errors))[:5],
            "p50_s": _round(percentile(times, 0.5)),
            "p95_s": _round(percentile(times, 0.95)),
            "max_s": _round(max(times) if times else None),
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


class Annotator(threading.Thread):
    """One person labeling: ``/next`` then an annotation, over raw HTTP without retries, until stopped."""

    def __init__(self, url: str, key: str, project_id: int, think: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.url, self.project_id, self.think = url.rstrip("/"), project_id, think
        self.client = httpx.Client(headers={"Authorization": f"Token {key}"}, timeout=120)
        self.calls = Calls()
        self.stop = threading.Event()
        self.rng = random.Random(seed)
        self.spec = parse_label_config(CONFIG)

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            resp = self.client.request(method, f"{self.url}/{path}", **kwargs)
        except httpx.HTTPError as err:
            self.calls.add(time.perf_counter() - start, False, f"{what}: {type(err).__name__}")
            return None
        ok = resp.status_code < 400 or (what == "next" and resp.status_code == 404)
        detail = "" if ok else f"{what}: {resp.status_code} {resp.text[:120]}"
        self.calls.add(time.perf_counter() - start, ok, detail or what)
        return resp if ok else None

    def label_one(self) -> None:
        """Ask ``/next`` and annotate the task it serves (each request recorded in ``calls``)."""
        resp = self._request("GET", f"api/projects/{self.project_id}/next", "next")
        if resp is not None and resp.status_code == 200 and "id" in resp.json():
            result = prediction_result(self.spec, self.rng.choice(LABELS))
            body = {"result": result, "was_cancelled": False}
            self._request("POST", f"api/tasks/{resp.json()['id']}/annotations/", "annotate", json=body)

    def run(self) -> None:
        while not self.stop.is_set():
            self.label_one()
            if self.think:
                self.stop.wait(self.think)


def build_project(gateway: Gateway, tasks: int, old: int, seed: int) -> tuple[int, str]:
    """A project with ``tasks`` texts, an old version ``al-0001-old`` on the first ``old`` tasks and a current
    version ``al-0002-now`` on every task (random scores: the queue); returns (project id, old version)."""
    spec = parse_label_config(CONFIG)
    rng = random.Random(seed)
    project = gateway.create_project(f"bench prune {tasks} {old}", CONFIG)
    texts = [
        {"text": f"review number {i}: the product was {rng.choice(['fine', 'bad', 'great'])}"} for i in range(tasks)
    ]
    gateway.import_tasks(project.id, (texts[i : i + 5000] for i in range(0, tasks, 5000)))
    ids = sorted(t.id for t in gateway.list_tasks(project.id, include="id"))
    for version, chosen in (("al-0001-old", ids[:old]), ("al-0002-now", ids)):
        preds = [
            {
                "task": t,
                "result": prediction_result(spec, rng.choice(LABELS)),
                "score": rng.random(),
                "model_version": version,
            }
            for t in chosen
        ]
        gateway.import_predictions(project.id, preds, chunk_size=10_000)
    gateway.set_model_version(project.id, "al-0002-now")
    gateway.set_sampling(project.id, UNCERTAINTY_SAMPLING)
    return project.id, "al-0001-old"


def measure(url: str, key: str, pacing: Pacing, args: argparse.Namespace) -> dict[str, Any]:
    """One way of pruning on a fresh project: annotators' baseline, then the prune with annotators running."""
    gateway = Gateway(url, key, timeout=3600)
    timer = Timer()
    with timer("setup"):
        project_id, old = build_project(gateway, args.tasks, args.old, args.seed)
    annotators = [Annotator(url, key, project_id, args.think, args.seed + i) for i in range(args.annotators)]
    for a in annotators:
        a.start()
    time.sleep(args.baseline)
    baseline = _merge(annotators)
    for a in annotators:
        a.calls = Calls()
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    finished = delete_version_paced(gateway, project_id, old, pacing)
    prune_s = time.perf_counter() - start
    for a in annotators:
        a.stop.set()
    for a in annotators:
        a.join(180)
    left = gateway.model_versions(project_id).get(old, 0)
    out = {
        "pace": pace_name(pacing),
        "batch": pacing.batch,
        "pause_s": pacing.pause,
        "prune_s": round(prune_s, 1),
        "ms_per_prediction": round(1000 * prune_s / args.old, 1) if args.old else None,
        "finished": finished and left == 0,
        "during_prune": _merge(annotators),
        "baseline": baseline,
        "setup_s": timer.s["setup"],
        "loadavg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    log.info("%s", json.dumps(out))
    return out


def _merge(annotators: list[Annotator]) -> dict[str, Any]:
    merged = Calls()
    for a in annotators:
        with a.calls.lock:
            merged.rows.extend(a.calls.rows)
    return merged.summary()


def markdown(result: dict[str, Any]) -> str:
    """The bench/README.md table of a result."""
    lines = [
        "| prune | prune time | ms per prediction | annotator requests | failed | error rate | p50 | p95 | max |"
        " baseline p50 / p95 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        d, b = r["during_prune"], r["baseline"]
        lines.append(
            f"| {r['pace']} | {r['prune_s']} s | {r['ms_per_prediction']} | {d['requests']} | {d['failed']} | "
            f"{_pct(d['error_rate'])} | {d['p50_s']} s | {d['p95_s']} s | {d['max_s']} s | {b['p50_s']} / {b['p95_s']} s |"
        )
    return "\n".join(lines)


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.prune_annotators", description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=20_000)
    p.add_argument("--old", type=int, default=20_000, help="predictions of the old version (at most --tasks)")
    p.add_argument("--paces", type=lambda s: [parse_pace(x) for x in s.split(",")], default="old,10/1.0,50/0.5")
    p.add_argument("--annotators", type=int, default=1)
    p.add_argument("--think", type=float, default=0.0, help="seconds between an annotator's tasks")
    p.add_argument("--baseline", type=float, default=30.0, help="seconds of annotators alone before each prune")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.old > args.tasks:
        raise SystemExit(f"--old must be at most --tasks. Got --old {args.old} and --tasks {args.tasks}.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="al-bench-prune-"))
    os.environ["AL_DATA_DIR"] = str(tmp / "al-data")
    server = None
    try:
        at_start = machine()
        url, key, server = _connect(tmp, Timer())
        runs = [measure(url, key, pacing, args) for pacing in args.paces]
        result = {
            "tasks": args.tasks,
            "old": args.old,
            "annotators": args.annotators,
            "think_s": args.think,
            "runs": runs,
            "label_studio": _version(url),
            "engine": _engine(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {**at_start, "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
        }
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
