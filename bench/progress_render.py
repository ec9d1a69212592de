"""How long the Progress page takes to render a project with many model versions.

    python -m bench.progress_render [--versions 200] [--repeat 3] [--json OUT]

Builds a history of ``--versions`` realistic succeeded versions (15 labels, a 15x15 confusion matrix, the
pool's 20-bin histogram, timings of every step) in a temporary SQLite database through the store's own API
(``History.start_iteration`` / ``finish_iteration``, as ``run_iteration`` records them), then times:

- each report function the page calls, on the records read back (``reports``);
- the page itself in Streamlit's AppTest (``pages/progress.py``, Label Studio unreachable so only the history
  is read): the first render of the process (``first_s``), a new browser session (``new_session_s``: what a
  teammate opening the page sees) and a rerun of the same session (``rerun_s``), the best of ``--repeat``,
  each minus the time AppTest takes for an empty script (``apptest_harness_s``, ``apptest_harness_rerun_s``:
  not part of a real server); then one more version is recorded and the same session reruns (``changed_s``:
  what the team sees after each iteration, every figure rebuilt).

``first_s`` includes importing the dashboard's libraries (Label Studio's SDK, pandas, Plotly, Alembic): paid
once per server start by whichever page is opened first, not by this page's work.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from al_core.progress import STEPS
from al_core.store.history import History
from al_core.store.records import IterationRecord

ROOT = Path(__file__).resolve().parents[1]
LABELS = tuple(f"intent_{i:02d}" for i in range(15))
PAGE = ROOT / "pages" / "progress.py"
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: Label Studio "down" at once, the page shows the history
LIMIT_S = 2.0  # the render time the issue asks for with 200 versions


def _version_groups(i: int, n: int, rng: random.Random) -> dict[str, Any]:
    """The stored groups of the ``i``-th of ``n`` versions, as an iteration writes them (improving slowly)."""
    accuracy = min(0.35 + 0.6 * i / n + rng.uniform(-0.03, 0.03), 0.99)
    k = len(LABELS)
    confusion = [[rng.randint(8, 20) if a == b else rng.randint(0, 2) for b in range(k)] for a in range(k)]
    histogram = [rng.randint(20, 400) for _ in range(20)]
    q = sorted(rng.random() for _ in range(5))
    return {
        "counts": {
            "n_tasks": 2250,
            "n_labeled": 20 * i,
            "n_eval": 225,
            "n_eval_labeled": min(2 * i, 225),
            "n_unlabeled": 2250 - 22 * i,
            "n_scored": 2250 - 22 * i,
            "n_predictions": 1000,
            "cold_start": False,
            "multi_label": False,
        },  # fmt: skip
        "metrics": {
            "n_eval": min(2 * i, 225),
            "accuracy": accuracy,
            "macro_f1": accuracy - 0.04,
            "per_class_f1": {label: rng.uniform(0.2, 1.0) for label in LABELS},
            "labels": list(LABELS),
            "confusion": confusion,
            "cv_accuracy": accuracy + 0.05,
            "live_agreement": accuracy - 0.1,
            "n_live": 20,
            "train_class_counts": {label: 20 * i // k for label in LABELS},
        },  # fmt: skip
        "uncertainty": {
            "n": 2250 - 22 * i,
            "quantiles": dict(zip(("p05", "p25", "p50", "p75", "p95"), q, strict=True)),
            "histogram_counts": histogram,
            "histogram_edges": [j / 20 for j in range(21)],
            "top_probability_quantiles": {"p50": 0.6},
            "mean_normalized_entropy": 0.6 - 0.4 * i / n,
            "changed_share": 0.1,
            "kappa": None if i == 1 else min(0.7 + 0.3 * i / n, 0.999),
            "consider_stopping": False,
            "predicted_class_counts": {label: rng.randint(50, 200) for label in LABELS},
        },  # fmt: skip
        "timings": {step: round(rng.uniform(0.1, 3.0), 3) for step in STEPS if step != "embed"},
    }


def build_history(url: str, versions: int, project_id: int = 1, seed: int = 0, server: str = UNREACHABLE) -> History:
    """A history with ``versions`` succeeded versions of project ``project_id`` of ``server`` (the one the timed
    page is connected to), written through the store's API."""
    history, rng = History(url, server=server), random.Random(seed)
    settings = {"model": "tfidf-logreg", "strategy": "margin", "diversity": True, "upload_top": 1000}
    for i in range(1, versions + 1):
        started = history.start_iteration(project_id, 20 * i, settings, "manual")
        history.finish_iteration(started.id, status="succeeded", **_version_groups(i, versions, rng))
    return history


def _report_calls(records: list[IterationRecord]) -> dict[str, Callable[[], object]]:
    from al_core.reports import charts, class_charts, version_summary
    from al_core.store.records import succeeded_versions

    done = succeeded_versions(records)
    latest, before = done[-1], done[-2] if len(done) > 1 else None
    return {
        "summary": lambda: version_summary.summary(records),
        "learning_curve": lambda: charts.learning_curve(done),
        "uncertainty_by_version": lambda: charts.uncertainty_by_version(done),
        "uncertainty_histogram": lambda: charts.uncertainty_histogram(latest, before),
        "stopping_signals": lambda: charts.stopping_signals(done),
        "class_balance": lambda: class_charts.class_balance(latest, latest.metrics.labels),
        "confusion_matrix": lambda: class_charts.confusion_matrix(latest),
        "per_class_f1": lambda: class_charts.per_class_f1(latest),
        "compare_versions": lambda: class_charts.compare_versions(before or latest, latest),
        "step_timings": lambda: charts.step_timings(done),
        "versions_table": lambda: version_summary.versions_table(records),
    }


def time_reports(history: History, project_id: int = 1) -> dict[str, float]:
    """Seconds of one read of the history and of each report function the page calls (offline: no Streamlit)."""
    started = time.perf_counter()
    records = history.iterations(project_id)
    out = {"read_history": time.perf_counter() - started}
    for name, call in _report_calls(records).items():
        started = time.perf_counter()
        call()
        out[name] = time.perf_counter() - started
    return {name: round(seconds, 4) for name, seconds in out.items()}


def _session(project_id: int) -> Any:
    from streamlit.testing.v1 import AppTest

    from ui import state
    from ui.services import Connected

    at = AppTest.from_file(str(PAGE), default_timeout=600)
    at.session_state[state.CONNECTION] = Connected(UNREACHABLE, "bench-key", "bench", "entered")
    at.session_state[state.PROJECT_ID] = project_id
    return at


def _timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    at = run()
    seconds = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"The Progress page raised: {[e.value for e in at.exception]}")
    return seconds


def _harness(repeat: int) -> tuple[float, float]:
    """Seconds AppTest itself takes for a script that does nothing, in a new session and in a rerun (it
    scans the installed packages for components on every run): subtracted, so the page's own time is reported."""
    from streamlit.testing.v1 import AppTest

    def empty() -> Any:
        return AppTest.from_string("import streamlit as st", default_timeout=60)

    new_session = min(_timed(lambda: empty().run()) for _ in range(repeat))
    at = empty().run()
    return new_session, min(_timed(at.run) for _ in range(repeat))


def time_page(history: History, project_id: int, repeat: int) -> dict[str, float]:
    """Seconds the Progress page takes to render, AppTest's own time subtracted: the first render of the
    process (nothing cached), a new browser session (caches warm), a rerun (best of ``repeat``) and a rerun
    after one more version was recorded (every cached figure stale)."""
    harness, harness_rerun = _harness(repeat)
    first = _timed(lambda: _session(project_id).run())
    new_session = min(_timed(lambda: _session(project_id).run()) for _ in range(repeat))
    at = _session(project_id).run()
    rerun = min(_timed(at.run) for _ in range(repeat))
    n = len(history.iterations(project_id))
    started = history.start_iteration(project_id, 20 * (n + 1), {"model": "tfidf-logreg"}, "manual")
    history.finish_iteration(started.id, status="succeeded", **_version_groups(n + 1, n + 1, random.Random(n)))
    changed = _timed(at.run)
    out = {
        "first_s": first - harness,
        "new_session_s": new_session - harness,
        "rerun_s": rerun - harness_rerun,
        "changed_s": changed - harness_rerun,
    }
    out.update(apptest_harness_s=harness, apptest_harness_rerun_s=harness_rerun)
    return {k: round(max(v, 0.0), 3) for k, v in out.items()}


def run(versions: int, repeat: int = 3, page: bool = True) -> dict[str, Any]:
    """Build the history in a temporary data dir, time the reports and (``page``) the page; the result as JSON.

    The page reads the history of ``AL_DATA_DIR``: it points to the temporary dir during the run (your own
    history is never read or written), then back."""
    saved = {name: os.environ.get(name) for name in ("AL_DATA_DIR", "AL_DB_URL")}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AL_DATA_DIR"] = tmp
        os.environ.pop("AL_DB_URL", None)
        try:
            return _measure(versions, repeat, page)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _measure(versions: int, repeat: int, page: bool) -> dict[str, Any]:
    from al_core import settings

    started = time.perf_counter()
    history = build_history(settings.db_url(), versions)
    result: dict[str, Any] = {"versions": versions, "build_s": round(time.perf_counter() - started, 2)}
    result["reports"] = time_reports(history)
    result["reports_total_s"] = round(sum(result["reports"].values()), 3)
    if page:
        result["page"] = time_page(history, 1, repeat)
        timed = ("new_session_s", "rerun_s", "changed_s")
        result["under_limit"] = all(result["page"][name] < LIMIT_S for name in timed)
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.progress_render", description=__doc__.split("\n")[0])
    p.add_argument("--versions", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3, help="renders timed per case (the best is kept)")
    p.add_argument("--no-page", action="store_true", help="time the report functions only (no AppTest)")
    p.add_argument("--json", help="write the result here")
    args = p.parse_args(argv)
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # AppTest's "no runtime" notes are not results
    if args.versions < 2:
        print(f"error: --versions must be at least 2. Got {args.versions} instead.", file=sys.stderr)
        return 2
    result = run(args.versions, args.repeat, page=not args.no_page)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"{args.versions} versions; reports {result['reports_total_s']} s in total:")
    for name, seconds in sorted(result["reports"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:<24} {seconds:.3f} s")
    if "page" in result:
        print("Progress page: " + ", ".join(f"{k} {v} s" for k, v in result["page"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
