"""A pool of a million tasks, end to end against a real Label Studio (issue #18, items 3 and 5):

- **import**: a project of ``--pool`` tasks (the shipped sample's texts repeated, each repeat marked
  `` (#k)`` so texts stay distinct), imported in requests of ``--chunk`` tasks; the first ``--labeled`` tasks
  carry their gold annotation in the import itself (one request instead of one per annotation);
- **listing**: on a second project of ``--compare-pool`` tasks, the paginated listing the engine uses
  (``/api/tasks?include=id,data,updated_at``, pages of 5,000) against Label Studio's export endpoint
  (``/api/projects/ID/export?download_all_tasks=true``), so the faster one can be kept;
- **cold iteration**: ``python -m al_core iterate --json`` in a process of its own (the app, as a user runs
  it), with no task cache; then ``--more`` annotations taken from ``/next``, and a **warm iteration** (the task
  cache is warm: only changed tasks are listed). The peak RSS of the iteration's process, and of Label Studio's
  process tree, is sampled every 20 ms during each.

    python -m bench.scale [--pool 1000000] [--labeled 500] [--more 20] [--model tfidf-logreg]
                          [--chunk 10000] [--compare-pool 50000] [--json OUT] [--keep]

Starts Label Studio on a free port with a temporary data dir (or uses ``LABEL_STUDIO_URL`` with
``LABEL_STUDIO_API_KEY``), with a temporary ``AL_DATA_DIR``; stops the server it started and deletes the
temporary dir unless ``--keep``. ``--project ID`` (with ``LABEL_STUDIO_URL``) skips the import and iterates
over an existing project built by an earlier run. Run it under ``nice``: other people share the machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from al_core.lab.sample import GoldAnnotator, sample_gold, sample_rows
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES, parse_label_config, prediction_result
from al_core.labelstudio.task_cache import cached_tasks
from al_core.learning import vector_cache
from al_core.learning.embeddings import DEFAULT_ENCODER, cache_path, get_encoder, project_scope, text_key
from al_core.learning.models import BEST_MODEL
from bench.latency import PeakRss, Timer, _engine, _server_rss, _stop_sampler, _version, free_port, machine

log = logging.getLogger("bench.scale")
ROOT = Path(__file__).resolve().parent.parent
_REPEAT = re.compile(r" \(#\d+\)$")  # the mark of a repeated sample text
_LISTING_INCLUDE = "id,data,updated_at"  # what the task cache lists (al_core.labelstudio.task_cache)


def pool_tasks(pool: int, labeled: int, chunk: int, spec: Any, start: int = 0) -> Iterator[list[dict[str, Any]]]:
    """The pool's tasks, ``chunk`` at a time (never all in memory); the first ``labeled`` carry a gold annotation."""
    rows = sample_rows()
    for first in range(start, pool, chunk):
        out = []
        for i in range(first, min(first + chunk, pool)):
            text, label = rows[i % len(rows)]
            task: dict[str, Any] = {"data": {"text": text if i < len(rows) else f"{text} (#{i // len(rows)})"}}
            if i < labeled:
                task["annotations"] = [{"result": prediction_result(spec, label)}]
            out.append(task)
        yield out


def build_project(gateway: Gateway, pool: int, labeled: int, chunk: int, title: str) -> tuple[int, dict[str, Any]]:
    """A project of ``pool`` tasks, the first ``labeled`` annotated; returns its id and the import's timing."""
    project = gateway.create_project(title, TEMPLATES["intent"])
    spec = parse_label_config(project.label_config)
    start, done = time.perf_counter(), 0

    def progress(n: int, _total: int) -> None:
        nonlocal done
        if n // 100_000 > done // 100_000 or n == pool:
            log.info("  %d of %d tasks imported (%.0f s)", n, pool, time.perf_counter() - start)
        done = n

    created = gateway.import_tasks_counted(project.id, pool_tasks(pool, labeled, chunk, spec), on_progress=progress)
    seconds = round(time.perf_counter() - start, 3)
    return project.id, {
        "tasks": created.tasks,
        "annotations": created.annotations,
        "seconds": seconds,
        "tasks_per_s": round(created.tasks / max(seconds, 1e-9)),
        "chunk": chunk,
    }


def compare_listing(gateway: Gateway, project_id: int) -> dict[str, Any]:
    """Seconds to list every task of a project: the engine's paginated listing vs the export endpoint."""
    timer = Timer()
    with timer("paginated"):
        listed = gateway.list_tasks(project_id, include=_LISTING_INCLUDE)
    with timer("export"):
        exported = gateway._raw(  # noqa: SLF001 (a measurement of an endpoint the gateway deliberately does not use)
            "GET",
            f"api/projects/{project_id}/export",
            "exporting every task",
            params={"exportType": "JSON", "download_all_tasks": "true"},
            timeout=3600,
        )
    return {
        "n_tasks": len(listed),
        "n_exported": len(exported or []),
        "paginated_s": timer.s["paginated"],
        "export_s": timer.s["export"],
        "faster": "paginated" if timer.s["paginated"] <= timer.s["export"] else "export",
    }


def probe_listing(gateway: Gateway, project_id: int, n_tasks: int, page_size: int = 5000) -> dict[str, Any]:
    """Seconds for single pages of the engine's listing at the start, middle and end of a big project: whether a
    page costs more deep into the project (SQL OFFSET), and the full listing extrapolated from them."""
    last = max(1, -(-n_tasks // page_size))
    seconds: dict[int, float] = {}
    for page in sorted({1, (last + 1) // 2, last}):
        start = time.perf_counter()
        gateway._tasks_page(project_id, page, page_size, None, _LISTING_INCLUDE)  # noqa: SLF001 (one page, timed)
        seconds[page] = round(time.perf_counter() - start, 2)
    per_page = sum(seconds.values()) / len(seconds)
    return {"page_size": page_size, "pages": last, "seconds_by_page": seconds, "extrapolated_s": round(per_page * last)}


def seed_task_cache(sqlite_path: Path, url: str, project_id: int) -> dict[str, Any]:
    """Write the task cache a full listing of ``project_id`` would leave, read from Label Studio's own SQLite
    database instead of its API (read-only; run it while the server is idle: SQLite locks writers out).

    For a machine too busy to list 1,000,000 tasks through the API in the time at hand: the iteration after it
    is then a real one with a warm task cache (Label Studio is asked only for what changed since).
    """
    import sqlite3

    from al_core.labelstudio.records import Task
    from al_core.labelstudio.task_cache import _save
    from al_core.labelstudio.task_cache import cache_path as task_cache_path

    start = time.perf_counter()
    tasks, latest = {}, ""
    with sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True, timeout=120) as db:
        rows = db.execute("SELECT id, data, updated_at FROM task WHERE project_id = ?", (project_id,))
        for tid, data, updated in rows:
            tasks[int(tid)] = Task(id=int(tid), data=json.loads(data))
            latest = max(latest, updated)
    stamp = latest.replace(" ", "T") + ("" if "." in latest else ".000000") + "Z"  # as the API writes updated_at
    _save(task_cache_path(url, project_id), tasks, stamp)
    return {"tasks": len(tasks), "max_updated_at": stamp, "seconds": round(time.perf_counter() - start, 1)}


def iterate(
    url: str, key: str, project_id: int, model: str, server_pid: int | None, *, force: bool = False
) -> dict[str, Any]:
    """``python -m al_core iterate --json`` in its own process; its peak RSS (and Label Studio's) meanwhile."""
    env = {**os.environ, "LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": key, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "al_core", "iterate", "--project", str(project_id), "--model", model, "--json"]
    cmd += ["--no-prune", *(["--force"] if force else [])]  # pruning runs in the background: not the iteration's
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server = PeakRss(server_pid, tree=True).__enter__() if server_pid else None
    with PeakRss(proc.pid, tree=True) as app:
        out, err = proc.communicate()
    wall = round(time.perf_counter() - start, 3)
    server_mb = _stop_sampler(server)
    if proc.returncode != 0:
        raise RuntimeError(f"iterate failed ({proc.returncode}):\n{err[-3000:]}")
    result = json.loads(out)
    counts = _recorded_counts(url, project_id, result["model_version"])
    log.info("  %s: %.1f s, app peak RSS %.0f MB, server %s MB", result["model_version"], wall, app.peak_mb, server_mb)
    return {
        "wall_s": wall,
        "app_peak_rss_mb": app.peak_mb,
        "server_peak_rss_mb": server_mb,
        "steps": result["timings"],
        "n_unlabeled": result["n_unlabeled"],
        "n_labeled": result["n_labeled"],
        "n_predictions": result["n_predictions"],
        "tasks_fetched": counts.get("tasks_fetched"),
        "full_sync": counts.get("full_sync"),
        "accuracy": result["metrics"].get("accuracy"),
        "n_embedded": counts.get("n_embedded"),
        "n_embed_cached": counts.get("n_embed_cached"),
    }


def _recorded_counts(url: str, project_id: int, version: str) -> dict[str, Any]:
    """The counts the iteration recorded in the history (``iterate --json`` prints no counts)."""
    from dataclasses import asdict

    from al_core.settings import db_url
    from al_core.store.history import History

    record = History(db_url(), server=url).get_iteration(project_id, version)
    return asdict(record.counts) if record is not None else {}


def prefill_embedding_cache(url: str, project_id: int, encoder: str = DEFAULT_ENCODER) -> dict[str, Any]:
    """Write the project's embedding cache as an iteration would, WITHOUT embedding every task: each task gets
    the vector of its text without the `` (#k)`` repeat mark (the sample's 2,250 texts are embedded).

    Embedding 1,000,000 distinct texts takes hours on 2 cores (100-200 a second); this measures what an
    iteration with a warm cache costs in time and memory, which does not depend on the vectors' values.
    Reads the tasks from the task cache an earlier iteration left (``AL_DATA_DIR``).
    """
    from al_core import settings

    tasks = cached_tasks(url, project_id)
    if not tasks:
        raise RuntimeError("No task cache for the project: run an iteration first.")
    start = time.perf_counter()
    base = [_REPEAT.sub("", t.data["text"]) for t in tasks.values()]
    unique = sorted(set(base))
    vectors = get_encoder(encoder).encode(unique)
    row_of = {text: i for i, text in enumerate(unique)}
    path = cache_path(settings.cache_dir(), project_scope(url, project_id), encoder)
    store, commit = vector_cache.create(path, len(tasks), vectors.shape[1])
    which = np.fromiter((row_of[text] for text in base), dtype=np.intp, count=len(base))
    for first in range(0, len(which), 50_000):
        store[first : first + 50_000] = vectors[which[first : first + 50_000]]
    commit(list(tasks), [text_key(t.data["text"]) for t in tasks.values()])
    return {"tasks": len(tasks), "embedded": len(unique), "seconds": round(time.perf_counter() - start, 1)}


def _listening_pid(url: str) -> int | None:
    """The pid of the process serving ``url`` on this machine (to sample a server this run did not start)."""
    import psutil

    port = httpx.URL(url).port
    try:
        conns = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return None
    return next((c.pid for c in conns if c.status == "LISTEN" and c.laddr.port == port and c.pid), None)


def run(
    pool: int,
    labeled: int,
    more: int = 20,
    model: str = "tfidf-logreg",
    chunk: int = 10_000,
    compare_pool: int = 50_000,
    project_id: int | None = None,
    keep: bool = False,
    default_model: bool = False,
) -> dict[str, Any]:
    """Run the whole benchmark and return the JSON result (see the module docstring)."""
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="al-bench-scale-"))
    os.environ["AL_DATA_DIR"] = str(tmp / "al-data")  # never the user's history or caches
    server = server_rss = None
    setup = Timer()
    try:
        at_start, engine = machine(), _engine()
        url, key = os.environ.get("LABEL_STUDIO_URL"), os.environ.get("LABEL_STUDIO_API_KEY")
        if url and key:
            server_pid = _listening_pid(url)
        else:
            if project_id is not None:
                raise SystemExit("--project needs LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY (the server holding it).")
            from al_core.labelstudio.local_server import start_local_server

            with setup("server_start"):
                server = start_local_server(tmp / "ls", port=free_port())
            url, key, server_pid = server.connection.url, server.connection.api_key, server.process.pid
        server_rss = _server_rss(server) if server is not None else None
        gateway = Gateway(url, key, timeout=600)
        built: dict[str, Any] | None = None
        if project_id is None:
            log.info("Importing %d tasks (%d annotated) in requests of %d", pool, labeled, chunk)
            project_id, built = build_project(gateway, pool, labeled, chunk, f"bench scale {pool}")
        listing = None
        if compare_pool:
            log.info("Listing: paginated vs export on a %d-task project", compare_pool)
            small, _ = build_project(gateway, compare_pool, 0, chunk, f"bench scale listing {compare_pool}")
            listing = compare_listing(gateway, small)
            log.info("  %s", listing)
        log.info("Cold iteration (%s, no task cache)", model)
        cold = iterate(url, key, project_id, model, server_pid)
        log.info("%d annotations from /next", more)
        GoldAnnotator(gateway, project_id, sample_gold().get).label(more)
        log.info("Warm iteration (%s, task cache warm)", model)
        warm = iterate(url, key, project_id, model, server_pid)
        embedded = None
        if default_model:
            log.info("The default model (%s) with a warm embedding cache", BEST_MODEL)
            prefill = prefill_embedding_cache(url, project_id)
            log.info("  embedding cache written: %s", prefill)
            embedded = {**iterate(url, key, project_id, BEST_MODEL, server_pid, force=True), "prefill": prefill}
        version = _version(url)
    finally:
        server_mb = _stop_sampler(server_rss)
        if server is not None:
            server.stop()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return {
        "pool": pool,
        "model": model,
        "labeled": labeled,
        "more": more,
        "project_id": project_id,
        "import": built,
        "listing": listing,
        "cold": cold,
        "warm": warm,
        "default_model": embedded,
        "server_peak_rss_mb": server_mb,  # the whole run; None for a server this run did not start
        "setup_s": setup.s,
        "total_s": round(time.perf_counter() - started, 1),
        "machine": at_start,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "engine": engine,
        "label_studio": version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "data_dir": str(tmp) if keep else None,
    }


def table(result: dict[str, Any]) -> str:
    """The result as the Markdown table of bench/README.md."""
    rows = ["| what | seconds | peak RSS app (MB) | peak RSS Label Studio (MB) | notes |", "|---|---|---|---|---|"]
    if result["import"]:
        imp = result["import"]
        note = f"{imp['tasks']:,} tasks ({imp['tasks_per_s']:,}/s), requests of {imp['chunk']:,}"
        rows.append(f"| import | {imp['seconds']:.1f} | | | {note} |")
    for name in ("cold", "warm", "default_model"):
        it = result.get(name)
        if it is None:
            continue
        steps = ", ".join(f"{k} {v:.1f}" for k, v in it["steps"].items() if v >= 0.05)
        note = f"{it['n_unlabeled']:,} unlabeled, {it['tasks_fetched']:,} tasks listed, {it['n_predictions']:,} predictions; {steps}"
        server = "" if it["server_peak_rss_mb"] is None else f"{it['server_peak_rss_mb']:,.0f}"
        if name == "default_model":
            name, note = f"{BEST_MODEL}, warm embedding cache", f"{it['n_embed_cached']:,} vectors cached; {note}"
        rows.append(f"| {name} iteration | {it['wall_s']:.1f} | {it['app_peak_rss_mb']:,.0f} | {server} | {note} |")
    if result["listing"]:
        li = result["listing"]
        for way in ("paginated", "export"):
            rows.append(f"| listing {li['n_tasks']:,} tasks, {way} | {li[f'{way}_s']:.1f} | | | |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pool", type=int, default=1_000_000, help="tasks in the project (default 1,000,000)")
    ap.add_argument("--labeled", type=int, default=500, help="tasks imported with their gold annotation")
    ap.add_argument("--more", type=int, default=20, help="annotations from /next between the two iterations")
    ap.add_argument("--model", default="tfidf-logreg")
    ap.add_argument("--chunk", type=int, default=10_000, help="tasks per import request")
    ap.add_argument("--compare-pool", type=int, default=50_000, help="tasks of the listing comparison (0: skip)")
    ap.add_argument("--project", type=int, default=None, help="iterate over this existing project (no import)")
    ap.add_argument("--json", type=Path, default=None, help="write the result here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir (and print it)")
    ap.add_argument(
        "--default-model",
        action="store_true",
        help=f"then a {BEST_MODEL} iteration with a warm embedding cache (prefilled: see prefill_embedding_cache)",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    result = run(
        args.pool,
        args.labeled,
        args.more,
        args.model,
        args.chunk,
        args.compare_pool,
        args.project,
        args.keep,
        args.default_model,
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
