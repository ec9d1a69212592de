"""Latency of an active-learning iteration against a real Label Studio, in one run, on one project:

- ours: ``run_iteration`` end to end with a prediction for every unlabeled task (``upload_top=0``), its
  per-step times, then a default iteration, then another default iteration after 20 more annotations;
- the example's way: the same work done as Label Studio's active-learning example does it (legacy SDK:
  ``get_labeled_tasks``, ``get_unlabeled_tasks_ids``, ``get_tasks``, one ``create_prediction`` per task);
  ``create_prediction`` is timed on a sample and EXTRAPOLATED to the pool (doing 20,000 takes ~30 min);
- the REST floor: the HTTP calls that must happen anyway (list ids and texts, read the labels, one bulk
  prediction import of the pool).

    python -m bench.latency [--pool 20000] [--labeled 500] [--json OUT] [--example-sample 300]
                            [--skip-example] [--skip-floor] [--model NAME|auto] [--classes N]
                            [--default-only [--rounds R] [--versus NAME|auto]]

``--classes N`` keeps the sample's first N intents (in the config's order; N = 2 makes a two-class project).
``--model auto`` is the engine's default (no model chosen: by the number of classes). ``--default-only`` runs
only default iterations, each with the caches on disk cleared: ``R`` rounds of ``--model`` then ``--versus``,
interleaved (A, B, A, B) so that the load of a shared machine falls on both alike; later rounds are forced (the
labels did not change). The process's encoder memo stays, so only the first round embeds the pool (the same
MiniLM vectors for every embedding model): the later rounds compare everything but the embedding.

``--skip-example`` / ``--skip-floor`` leave out the example's way / the REST floor, for load runs (e.g.
100,000 tasks) where the legacy SDK's listing or the floor's single 100,000-prediction request would take
most of the run; their JSON keys stay, with ``null`` values (and so do the ratios computed from them).

Memory: this process's RSS is sampled every 20 ms during our iterations (``peak_rss_mb``, per iteration in
``ours.*.peak_rss_mb``, the RSS just before them in ``ours.rss_before_mb``); for a server this run started,
the RSS of its process tree is sampled the same way for the whole run (``server_peak_rss_mb``) and during
our iterations (``server_peak_rss_ours_mb``).

Starts a Label Studio on a free port with a temporary data dir (or uses ``LABEL_STUDIO_URL`` with
``LABEL_STUDIO_API_KEY``, which must be a legacy token for the example's way) and a temporary
``AL_DATA_DIR``; stops the server it started and deletes the temporary dir.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from threadpoolctl import threadpool_info

from al_core.lab.sample import GoldAnnotator, sample_gold, sample_rows, sample_tasks
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES, build_config, parse_label_config, prediction_result
from al_core.learning import models

log = logging.getLogger("bench.latency")
MORE_LABELS = 20
_REPEAT = re.compile(r" \(#\d+\)$")
AUTO = "auto"  # --model / --versus: no model chosen, the engine's default by the number of classes


class Timer:
    """Named wall-clock sections, in seconds."""

    def __init__(self) -> None:
        self.s: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.s[name] = round(self.s.get(name, 0.0) + time.perf_counter() - start, 3)
        log.info("  %s: %.2f s", name, self.s[name])


class PeakRss:
    """Samples a process's RSS every 20 ms while active (ru_maxrss cannot be reset between phases).

    ``pid``: another process (default: this one); ``tree``: add the RSS of its children (a server's workers).
    """

    def __init__(self, pid: int | None = None, *, tree: bool = False) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._proc = psutil.Process(pid)
        self._tree = tree

    def __enter__(self) -> PeakRss:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def rss(self) -> int:
        try:
            procs = [self._proc, *(self._proc.children(recursive=True) if self._tree else ())]
            return sum(p.memory_info().rss for p in procs if p.is_running())
        except psutil.Error:  # the process (or a child) ended between listing and reading
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> dict[str, Any]:
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "blas": [(p.get("internal_api"), p.get("num_threads")) for p in threadpool_info()],
    }


# -- setup -------------------------------------------------------------------------------------------------
def first_intents(classes: int | None) -> tuple[str, tuple[dict, ...]]:
    """The label config and the task texts of a project with the sample's first ``classes`` intents (config
    order), or all 15 (None). Raises ValueError for fewer than 2 or more than the sample has."""
    intents = parse_label_config(TEMPLATES["intent"]).labels
    if classes is None:
        return TEMPLATES["intent"], tuple(sample_tasks())
    if not 2 <= classes <= len(intents):
        raise ValueError(f"--classes must be in [2, {len(intents)}]. Got {classes} instead.")
    kept = set(intents[:classes])
    texts = tuple({"data": {"text": text}} for text, label in sample_rows() if label in kept)
    return build_config(intents[:classes], control_name="intent"), texts


def repeated(tasks: tuple[dict, ...], n: int) -> list[dict]:
    """``tasks`` repeated to ``n``, repeats marked `` (#k)`` so every text stays unique (as ``sample_tasks``)."""
    out = []
    for i in range(n):
        text = tasks[i % len(tasks)]["data"]["text"]
        out.append({"data": {"text": text if i < len(tasks) else f"{text} (#{i // len(tasks)})"}})
    return out


def build_project(
    gateway: Gateway, pool: int, labeled: int, classes: int | None = None
) -> tuple[int, dict[str, float]]:
    """A project with ``pool`` sample texts (of the first ``classes`` intents; None: all); the first ``labeled``
    (by id) annotated with their gold label."""
    timer, gold = Timer(), sample_gold()
    config, texts = first_intents(classes)
    with timer("create_and_import"):
        project = gateway.create_project(f"bench latency {pool}", config)
        tasks = repeated(texts, pool)
        gateway.import_tasks(project.id, (tasks[i : i + 5000] for i in range(0, len(tasks), 5000)))
    spec = parse_label_config(project.label_config)
    with timer("annotate"):
        first = sorted(gateway.list_tasks(project.id), key=lambda t: t.id)[:labeled]
        for i, task in enumerate(first):
            label = gold[_REPEAT.sub("", task.data["text"])]
            gateway.create_annotation(task.id, prediction_result(spec, label))
            if (i + 1) % 100 == 0:
                log.info("  %d of %d annotations", i + 1, labeled)
    return project.id, timer.s


# -- the example's way (legacy SDK) ------------------------------------------------------------------------
def example_way(url: str, api_key: str, project_id: int, sample: int, seed: int = 0) -> dict[str, Any]:
    """Label Studio's active-learning example, applied to every unlabeled task. The model is ours (same
    fit and prediction cost), so the difference is how Label Studio is talked to."""
    from label_studio_sdk._legacy import Client

    timer = Timer()
    project = Client(url=url, api_key=api_key).get_project(project_id)
    with timer("get_labeled_tasks"):
        labeled = project.get_labeled_tasks()
    texts = [t["data"]["text"] for t in labeled]
    labels = [t["annotations"][0]["result"][0]["value"]["choices"][0] for t in labeled]
    with timer("train"):
        model = models.fit_model(models.DEFAULT_MODEL, texts, labels)
    with timer("get_unlabeled_tasks_ids"):
        ids = project.get_unlabeled_tasks_ids()
    with timer("get_tasks"):
        # One call with every id would not fit in a URL (~7 bytes per id, every page repeats them): 1,000 a call.
        tasks = [t for i in range(0, len(ids), 1000) for t in project.get_tasks(selected_ids=ids[i : i + 1000])]
    with timer("predict"):
        proba = model.predict_proba([t["data"]["text"] for t in tasks])
        best = proba.argmax(axis=1)
    version = f"example_{len(labeled)}"
    picked = random.Random(seed).sample(range(len(tasks)), min(sample, len(tasks)))
    start = time.perf_counter()
    for i in picked:
        result = [
            {
                "from_name": "intent",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": [model.classes[best[i]]]},
            }
        ]
        project.create_prediction(
            task_id=tasks[i]["id"], result=result, score=float(proba[i, best[i]]), model_version=version
        )
    per_call = (time.perf_counter() - start) / max(len(picked), 1)
    with timer("set_model_version"):
        project.set_model_version(version)
    steps = dict(timer.s)
    steps["create_prediction_extrapolated"] = round(per_call * len(tasks), 3)
    return {
        "steps": steps,
        "total_s": round(sum(steps.values()), 3),
        "n_pool": len(tasks),
        "n_labeled": len(labeled),
        "sample": len(picked),
        "create_prediction_ms": round(per_call * 1000, 2),
    }


# -- the REST floor ----------------------------------------------------------------------------------------
def rest_floor(gateway: Gateway, project_id: int) -> dict[str, Any]:
    """The calls any iteration must make: list the pool's ids and texts, read the labels, one bulk import."""
    timer = Timer()
    spec = parse_label_config(gateway.get_project(project_id).label_config)
    with timer("list_ids_texts"):
        pool = gateway.list_tasks(project_id, labeled=False)
    with timer("read_labels"):
        gateway.labeled_tasks(project_id)
    result = prediction_result(spec, spec.labels[0])
    predictions = [
        {"task": t.id, "result": result, "score": i / len(pool), "model_version": "floor"} for i, t in enumerate(pool)
    ]
    with timer("bulk_import"):
        gateway.import_predictions(project_id, predictions, chunk_size=max(len(predictions), 1))
    return {"steps": timer.s, "total_s": round(sum(timer.s.values()), 3), "n_pool": len(pool)}


# -- ours --------------------------------------------------------------------------------------------------
def _iteration(gateway: Gateway, history: Any, project_id: int, settings: Any, force: bool = False) -> dict[str, Any]:
    from al_core.iteration import run_iteration

    start = time.perf_counter()
    with PeakRss() as rss:
        result = run_iteration(gateway, history, project_id, settings, owner="bench.latency", force=force)
    wall = round(time.perf_counter() - start, 3)
    log.info(
        "  %s: %.2f s, %d predictions, peak RSS %.0f MB, steps %s",
        result.model_version, wall, result.n_predictions, rss.peak_mb, result.timings,
    )  # fmt: skip
    return {
        "wall_s": wall,
        "peak_rss_mb": rss.peak_mb,
        "steps": result.timings,
        "n_predictions": result.n_predictions,
        "n_unlabeled": result.n_unlabeled,
        "n_labeled": result.n_labeled,
        "accuracy": result.metrics.get("accuracy"),
        "model": result.model,
        "model_by_classes": result.model_by_classes,
    }


class OneRequestUploads(Gateway):
    """What-if (``--what-if``): the engine's prediction uploads sent in ONE request instead of chunks of 2,000.

    Label Studio 1.23's import endpoint recounts the counters of EVERY task of the project once per request
    (``data_import/api.py::_create_legacy`` -> ``update_tasks_counters(all project tasks)``), so the number
    of requests, not of predictions, dominates an upload on a big project.
    """

    def import_predictions(self, project_id: int, predictions: Any, **kwargs: Any) -> int:
        return super().import_predictions(project_id, predictions, **{**kwargs, "chunk_size": max(len(predictions), 1)})


def _base(model: str) -> dict[str, Any]:
    """The settings of our iterations for ``--model``: the example notebook's model and plain margin by default,
    as measured from the start (both ways do the same fitting work); an embedding model with the app's
    configuration for it (margin + diversity); ``auto``: the engine's defaults, nothing chosen."""
    return {} if model == AUTO else {"model": model, "diversity": models.uses_embeddings(model)}


def ours(
    gateway: Gateway, project_id: int, what_if: Gateway | None = None, model: str = models.DEFAULT_MODEL
) -> dict[str, Any]:
    """Every task uploaded, then default, then default again after 20 more annotations (taken from /next);
    then, with a ``what_if`` gateway (e.g. ``OneRequestUploads``), every task uploaded through it."""
    from al_core.iteration import IterationSettings
    from al_core.settings import cache_dir, db_url
    from al_core.store.history import History

    history = History(db_url(), server=gateway.url)
    base = _base(model)
    gc.collect()
    before = round(psutil.Process().memory_info().rss / 2**20, 1)
    with PeakRss() as rss:
        log.info("ours, every unlabeled task uploaded (upload_top=0)")
        full = _iteration(gateway, history, project_id, IterationSettings(upload_top=0, **base))
        # The iteration above left the task cache warm. Clear it, so that "default" is what a default
        # iteration costs when it must read the project (the first one, or one without incremental sync),
        # and "repeat" is what the next one costs when it may sync only what changed.
        shutil.rmtree(cache_dir(), ignore_errors=True)
        log.info("ours, default settings (task cache cleared)")
        default = _iteration(gateway, history, project_id, IterationSettings(**base))
        GoldAnnotator(gateway, project_id, sample_gold().get).label(MORE_LABELS)
        log.info("ours, default settings after %d more annotations", MORE_LABELS)
        repeat = _iteration(gateway, history, project_id, IterationSettings(**base))
    out = {"full": full, "default": default, "repeat": repeat, "peak_rss_mb": rss.peak_mb, "rss_before_mb": before}
    if what_if is not None:
        log.info("what-if: every unlabeled task uploaded through %s", type(what_if).__name__)
        out["what_if_one_request"] = _iteration(what_if, history, project_id, IterationSettings(upload_top=0, **base))
    return out


def default_rounds(gateway: Gateway, project_id: int, models_in_turn: list[str], rounds: int) -> dict[str, Any]:
    """``rounds`` default iterations of each model of ``models_in_turn``, interleaved, the caches on disk (tasks and
    sentence vectors) cleared before each (the encoder's memo in this process stays: only the first embeds):
    ``{"rounds": [...], "by_model": {model: [wall_s, ...]}}``."""
    from al_core.iteration import IterationSettings
    from al_core.settings import cache_dir, db_url
    from al_core.store.history import History

    history = History(db_url(), server=gateway.url)
    done: list[dict[str, Any]] = []
    for r in range(rounds):
        for model in models_in_turn:
            shutil.rmtree(cache_dir(), ignore_errors=True)
            log.info("round %d: a default iteration with --model %s (caches cleared)", r + 1, model)
            it = _iteration(gateway, history, project_id, IterationSettings(**_base(model)), force=bool(done))
            done.append({"round": r + 1, "asked": model, **it})
    by_model = {m: [d["wall_s"] for d in done if d["asked"] == m] for m in models_in_turn}
    return {"rounds": done, "by_model": by_model}


# -- orchestration -----------------------------------------------------------------------------------------
def _connect(tmp: Path, timer: Timer) -> tuple[str, str, Any]:
    url, key = os.environ.get("LABEL_STUDIO_URL"), os.environ.get("LABEL_STUDIO_API_KEY")
    if url:
        if not key:
            raise SystemExit("LABEL_STUDIO_URL is set but LABEL_STUDIO_API_KEY is not (a legacy token is needed).")
        return url, key, None
    from al_core.labelstudio.local_server import start_local_server

    with timer("server_start"):
        server = start_local_server(tmp / "ls", port=free_port())
    return server.connection.url, server.connection.api_key, server


def _server_flags(server: Any) -> dict[str, str] | None:
    """Feature flags set in the environment of the server we started (Label Studio reads them from there)."""
    if server is None or server.process is None:
        return None
    env = psutil.Process(server.process.pid).environ()
    return {k: v for k, v in env.items() if k.startswith(("fflag_", "ff_", "feat_"))}


def _engine() -> str:
    """The commit measured, marked dirty when the working tree has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "al_core"], cwd=root, capture_output=True, text=True)
    except OSError:
        return "?"
    return rev.stdout.strip() + (" + uncommitted al_core changes" if dirty.stdout.strip() else "")


def _version(url: str) -> str:
    try:
        return str(httpx.get(url.rstrip("/") + "/api/version", timeout=10).json().get("release", "?"))
    except (httpx.HTTPError, ValueError):
        return "?"


def _server_rss(server: Any) -> PeakRss | None:
    """A sampler of the RSS of the server we started (its process tree); None for a server we did not start."""
    if server is None or server.process is None:
        return None
    return PeakRss(server.process.pid, tree=True).__enter__()


def _stop_sampler(sampler: PeakRss | None) -> float | None:
    if sampler is None:
        return None
    sampler.__exit__(None, None, None)
    return sampler.peak_mb


def run(
    pool: int,
    labeled: int,
    example_sample: int = 300,
    keep: bool = False,
    what_if: bool = False,
    skip_example: bool = False,
    skip_floor: bool = False,
    model: str = models.DEFAULT_MODEL,
    classes: int | None = None,
    default_only: bool = False,
    rounds: int = 1,
    versus: str | None = None,
) -> dict[str, Any]:
    """Run the whole benchmark and return the JSON result (see the module docstring); ``default_only``: the
    project, then ``default_rounds`` only (``run_default_only``'s result)."""
    started, setup = time.perf_counter(), Timer()
    tmp = Path(tempfile.mkdtemp(prefix="al-bench-latency-"))
    os.environ["AL_DATA_DIR"] = str(tmp / "al-data")  # never the user's history
    server = server_rss = server_rss_ours = None
    example: dict[str, Any] | None = None
    floor: dict[str, Any] | None = None
    try:
        at_start, engine = machine(), _engine()
        url, key, server = _connect(tmp, setup)
        server_rss = _server_rss(server)
        flags = _server_flags(server)
        gateway = Gateway(url, key, timeout=120)
        log.info("Building a project: %d tasks, %d annotations", pool, labeled)
        project_id, built = build_project(gateway, pool, labeled, classes)
        if default_only:
            in_turn = [model] if versus is None else [model, versus]
            found = default_rounds(gateway, project_id, in_turn, rounds)
            version = _version(url)
            return {
                "pool": pool, "labeled": labeled, "classes": classes, "default_only": True, **found,
                "setup_s": {**setup.s, **built}, "label_studio": version, "server_flags": flags, "engine": engine,
                "machine": {**at_start, "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "total_s": round(time.perf_counter() - started, 1),
            }  # fmt: skip
        # The example and the floor run first, while the project holds no predictions: ours then runs
        # with their ~20,000 extra predictions stored, which can only make ours slower.
        if skip_example:
            log.info("The example's way: skipped (--skip-example)")
        else:
            log.info("The example's way (legacy SDK), create_prediction timed on %d tasks", example_sample)
            example = example_way(url, key, project_id, example_sample)
        gc.collect()
        if skip_floor:
            log.info("The REST floor: skipped (--skip-floor)")
        else:
            log.info("The REST floor")
            floor = rest_floor(gateway, project_id)
        server_rss_ours = _server_rss(server)
        mine = ours(gateway, project_id, OneRequestUploads(url, key, timeout=120) if what_if else None, model)
        server_ours_mb = _stop_sampler(server_rss_ours)
        version = _version(url)
    finally:
        server_mb = _stop_sampler(server_rss)
        _stop_sampler(server_rss_ours)  # after an error: the thread must not outlive the server
        if server is not None:
            server.stop()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    full = mine["full"]
    compute = full["steps"].get("train", 0.0) + full["steps"].get("score", 0.0)
    return {
        "pool": pool,
        "model": model,
        "classes": classes,
        "labeled": labeled,
        "ours_s": full["wall_s"],
        "ours_steps": full["steps"],
        "ours_default_s": mine["default"]["wall_s"],
        "ours_default_steps": mine["default"]["steps"],
        "ours_repeat_s": mine["repeat"]["wall_s"],
        "example_way_s": example["total_s"] if example else None,
        "floor_s": floor["total_s"] if floor else None,
        "speedup_vs_example": round(example["total_s"] / full["wall_s"], 2) if example else None,
        "overhead_vs_floor": round(full["wall_s"] / (floor["total_s"] + compute), 3) if floor else None,
        "peak_rss_mb": mine["peak_rss_mb"],
        "server_peak_rss_mb": server_mb,  # None: a server we did not start
        "server_peak_rss_ours_mb": server_ours_mb,
        "skipped": [name for name, skip in (("example", skip_example), ("floor", skip_floor)) if skip],
        "example_way_extrapolated": True,
        "example": example,
        "floor": floor,
        "ours": mine,
        "setup_s": {**setup.s, **built},
        "process_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "label_studio": version,
        "server_flags": flags,  # None: a server we did not start (its flags are unknown)
        "engine": engine,
        "machine": {**at_start, "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "total_s": round(time.perf_counter() - started, 1),
    }


def markdown_rounds(r: dict[str, Any]) -> str:
    """A ``--default-only`` result as a markdown table: every round, then each model's mean and its ratio to the
    first model's."""
    lines = [
        f"Pool {r['pool']:,} tasks ({r['classes'] or 'all 15'} classes), {r['labeled']} labeled; engine {r['engine']}; "
        f"{r['date']}; load average {r['machine']['loadavg']} -> {r['machine']['loadavg_end']}.",
        "",
        "| round | --model | model trained | seconds | steps |",
        "|---|---|---|---|---|",
    ]
    for d in r["rounds"]:
        steps = ", ".join(f"{k} {v:.2f}" for k, v in d["steps"].items())
        lines.append(f"| {d['round']} | {d['asked']} | {d.get('model')} | {d['wall_s']:.2f} | {steps} |")
    # Only the first round embeds the pool (the memo stays): with several rounds, the means leave it out.
    kept = [d for d in r["rounds"] if d["round"] > 1] or r["rounds"]
    which = "rounds 2+" if kept is not r["rounds"] else "all rounds"
    means = {m: sum(d["wall_s"] for d in kept if d["asked"] == m) / max(1, sum(d["asked"] == m for d in kept))
             for m in r["by_model"]}  # fmt: skip
    first = next(iter(means.values()))
    lines += ["", f"| --model | mean seconds ({which}) | ratio to the first |", "|---|---|---|"]
    lines += [f"| {m} | {mean:.2f} | {mean / first:.2f} |" for m, mean in means.items()]
    return "\n".join(lines)


def markdown(r: dict[str, Any]) -> str:
    """The result as a markdown table (what ``bench/README.md`` shows)."""
    if r.get("default_only"):
        return markdown_rounds(r)
    ex, fl, mine = r["example"], r["floor"], r["ours"]

    def row(name: str, seconds: float, note: str = "") -> str:
        return f"| {name} | {seconds:.2f} | {note} |"

    def steps_of(steps: dict[str, float]) -> str:
        return ", ".join(f"{k} {v:.2f}" for k, v in steps.items())

    def missed(value: float | None, ok: bool) -> str:
        return "(skipped)" if value is None else "(met)" if ok else "(MISSED)"

    def fmt(value: float | None, spec: str) -> str:
        return "skipped" if value is None else format(value, spec)

    steps = steps_of(r["ours_steps"])
    default_steps = steps_of(r.get("ours_default_steps") or mine["default"]["steps"])
    lines = [
        f"Pool {r['pool']:,} tasks, {r['labeled']} labeled; Label Studio {r['label_studio']}; engine {r['engine']}; "
        f"{r['date']}; load average {r['machine']['loadavg']} -> {r['machine']['loadavg_end']}; "
        f"server flags {r.get('server_flags')}.",
        "",
        "| what | seconds | notes |",
        "|---|---|---|",
        row("ours, a prediction for every unlabeled task", r["ours_s"], f"{mine['full']['n_predictions']:,} predictions; {steps}"),
        row("ours, default (`upload_top=1000`), task cache cleared", r["ours_default_s"], f"{mine['default']['n_predictions']:,} predictions; {default_steps}"),
        row(f"ours, default after {MORE_LABELS} more annotations", r["ours_repeat_s"], f"{mine['repeat']['n_predictions']:,} predictions; {steps_of(mine['repeat']['steps'])}"),
    ]  # fmt: skip
    if ex is None:
        lines.append("| example's way (legacy SDK) | skipped | `--skip-example` |")
    else:
        lines.append(row("example's way (legacy SDK), **extrapolated**", r["example_way_s"],
            f"`create_prediction` {ex['create_prediction_ms']:.0f} ms each, timed on {ex['sample']} tasks, x {ex['n_pool']:,}; "
            + steps_of(ex["steps"])))  # fmt: skip
    if fl is None:
        lines.append("| REST floor | skipped | `--skip-floor` |")
    else:
        lines.append(row("REST floor", r["floor_s"], steps_of(fl["steps"])))
    if "what_if_one_request" in mine:
        one = mine["what_if_one_request"]
        lines.append(row("what-if: ours, every task, uploads in ONE request", one["wall_s"],
                         ", ".join(f"{k} {v:.2f}" for k, v in one["steps"].items())))  # fmt: skip
    repeat_ratio = r["ours_repeat_s"] / r["ours_default_s"]
    speedup, overhead = r["speedup_vs_example"], r["overhead_vs_floor"]
    per_iteration = ", ".join(f"{k} {mine[k].get('peak_rss_mb', 0):.0f}" for k in ("full", "default", "repeat"))
    server = r.get("server_peak_rss_mb")
    lines += [
        "",
        "| ratio | value | target |",
        "|---|---|---|",
        f"| speedup_vs_example | {fmt(speedup, '.1f')} | >= 50 {missed(speedup, speedup is not None and speedup >= 50)} |",
        f"| overhead_vs_floor | {fmt(overhead, '.2f')} | <= 1.5 {missed(overhead, overhead is not None and overhead <= 1.5)} |",
        f"| ours_repeat_s / ours_default_s | {repeat_ratio:.2f} | <= 0.5 {'(met)' if repeat_ratio <= 0.5 else '(MISSED)'} |",
        f"| peak RSS of our iterations (MB) | {r['peak_rss_mb']:.0f} | < 2048 {'(met)' if r['peak_rss_mb'] < 2048 else '(MISSED)'}; "
        f"per iteration {per_iteration}; before them {mine.get('rss_before_mb', 0):.0f}; whole benchmark process {r['process_maxrss_mb']:.0f} |",
        f"| peak RSS of the Label Studio server (MB) | {fmt(server, '.0f')} | "
        f"during our iterations {fmt(r.get('server_peak_rss_ours_mb'), '.0f')} (not measured for a server we did not start) |",
    ]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n")[0])
    parser.add_argument("--pool", type=int, default=20000, help="tasks in the project")
    parser.add_argument("--labeled", type=int, default=500, help="tasks annotated before the iterations")
    parser.add_argument("--example-sample", type=int, default=300, help="create_prediction calls actually timed")
    parser.add_argument("--json", help="write the result here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir (server data, history)")
    parser.add_argument("--what-if", action="store_true", help="also: every task uploaded in one request")
    parser.add_argument(
        "--skip-example",
        action="store_true",
        help="leave out the example's way (legacy SDK listing: impractically slow at 100,000 tasks); its keys are null",
    )
    parser.add_argument(
        "--skip-floor",
        action="store_true",
        help="leave out the REST floor (one bulk import of the whole pool); its keys are null",
    )
    choices = [AUTO, *sorted(models.MODELS)]
    parser.add_argument(
        "--model",
        default=models.DEFAULT_MODEL,
        choices=choices,
        help="the model of our iterations (default: the example's TF-IDF; an embedding model adds diversity; "
        "auto: the engine's default, by the number of classes)",
    )
    parser.add_argument("--classes", type=int, help="keep the sample's first N intents (2: a two-class project)")
    parser.add_argument(
        "--default-only",
        action="store_true",
        help="only default iterations, caches cleared: --rounds of --model, --versus",
    )
    parser.add_argument("--rounds", type=int, default=1, help="with --default-only: iterations per model")
    parser.add_argument("--versus", choices=choices, help="with --default-only: a second model, interleaved")
    args = parser.parse_args(argv)
    if args.example_sample < 200 or args.labeled < 2 or args.pool <= args.labeled:
        parser.error("need --example-sample >= 200, --labeled >= 2 and --pool > --labeled")
    if args.rounds < 1 or (args.rounds > 1 or args.versus) and not args.default_only:
        parser.error("--rounds (>= 1) and --versus go with --default-only")
    try:
        first_intents(args.classes)
    except ValueError as err:
        parser.error(str(err))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the steps
    result = run(
        args.pool, args.labeled, args.example_sample, args.keep, args.what_if, args.skip_example, args.skip_floor,
        args.model, args.classes, args.default_only, args.rounds, args.versus,
    )  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
