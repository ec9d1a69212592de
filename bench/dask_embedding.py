"""Embedding throughput in this process and on a Dask cluster of 1 and 2 worker processes (issue #18).

    nice -n 15 .venv/bin/python -m bench.dask_embedding [--texts 1024] [--workers 1 2] [--separate 2] [--json OUT]

Each engine embeds the same number of distinct texts (the shipped sample, suffixed per engine so that no memo
holds a vector) through ``Engine.fill``, the call the iteration's "embed" step makes. The clusters are
``LocalCluster``s of one-thread worker processes on this machine (the scheduler runs in this process); each
worker loads the encoder before the clock starts (its load time is reported apart). ``--separate N`` adds a
cluster as a team runs one: ``dask scheduler`` and ``dask worker --nworkers N`` as processes of their own, the
bench a client that only sends texts and receives vectors over TCP. Ratios in one run are what
to read on a shared machine: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from al_core.compute import chunks
from al_core.compute.engine import InProcess
from al_core.errors import ComputeError
from al_core.lab.sample import sample_tasks
from al_core.learning import embeddings


def texts_for(run: str, n: int) -> list[str]:
    """``n`` distinct texts of the shipped sample, marked with ``run`` (so no earlier run's vectors are reused)."""
    sample = [t["data"]["text"] for t in sample_tasks()]
    return [f"{sample[i % len(sample)]} ({run} {i // len(sample)})" for i in range(n)]


def _embed(engine: Any, texts: Sequence[str]) -> float:
    out = np.zeros((len(texts), 384), dtype=np.float32)
    start = time.perf_counter()
    engine.fill(embeddings.DEFAULT_ENCODER, texts, out, np.arange(len(texts)), on_progress=None)
    return time.perf_counter() - start


def in_process(n: int) -> dict[str, Any]:
    start = time.perf_counter()
    embeddings.get_encoder().load()
    load = time.perf_counter() - start
    seconds = _embed(InProcess(), texts_for("in-process", n))
    return {"engine": "in-process", "workers": 0, "texts": n, "seconds": seconds, "load_seconds": load}


def on_cluster(n_workers: int, n: int) -> dict[str, Any]:
    from distributed import LocalCluster

    from al_core.compute.dask_engine import DaskEngine

    with (
        LocalCluster(
            n_workers=n_workers, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
        ) as cluster,
        DaskEngine.connect(cluster.scheduler_address) as engine,
    ):
        start = time.perf_counter()
        engine.client.run(chunks.embed_chunk, embeddings.DEFAULT_ENCODER, ["warm up"])  # every worker loads it
        load = time.perf_counter() - start
        seconds = _embed(engine, texts_for(f"dask-{n_workers}", n))
    return {"engine": "dask", "workers": n_workers, "texts": n, "seconds": seconds, "load_seconds": load}


def separate_processes(n_workers: int, n: int) -> dict[str, Any]:
    """The scheduler and the workers in processes of their own (``python -m distributed.cli.dask_scheduler`` and
    ``dask_worker``), reached over TCP like a team's cluster; all stopped before returning."""
    from al_core.compute.dask_engine import DaskEngine

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    python_m = [sys.executable, "-m"]
    procs = [
        subprocess.Popen(
            [*python_m, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            **quiet,
        )
    ]
    try:
        time.sleep(2)
        procs.append(
            subprocess.Popen(
                [
                    *python_m,
                    "distributed.cli.dask_worker",
                    address,
                    "--nworkers",
                    str(n_workers),
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                ],
                **quiet,
            )
        )
        with contextlib.ExitStack() as stack:
            deadline = time.monotonic() + 600
            while True:  # the scheduler takes a few seconds to listen (connect raises when it is entered)
                try:
                    engine = stack.enter_context(DaskEngine.connect(address))
                    break
                except ComputeError:  # not listening yet, or no worker yet
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(2)
            engine.client.wait_for_workers(n_workers, timeout=600)
            start = time.perf_counter()
            engine.client.run(chunks.embed_chunk, embeddings.DEFAULT_ENCODER, ["warm up"])
            load = time.perf_counter() - start
            seconds = _embed(engine, texts_for(f"separate-{n_workers}", n))
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=60)
    return {
        "engine": "dask, separate scheduler",
        "workers": n_workers,
        "texts": n,
        "seconds": seconds,
        "load_seconds": load,
    }


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown table of bench/README.md: texts per second and the ratio to the in-process engine."""
    base = next((r["texts"] / r["seconds"] for r in rows if r["engine"] == "in-process"), None)
    lines = [
        "| engine | workers | texts | seconds | texts/s | vs in-process | encoder load (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rate = r["texts"] / r["seconds"]
        ratio = f"{rate / base:.2f}" if base else "n/a"
        lines.append(
            f"| {r['engine']} | {r['workers'] or '-'} | {r['texts']:,} | {r['seconds']:.1f} | {rate:.1f} | {ratio} "
            f"| {r['load_seconds']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=1024)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--separate", type=int, nargs="*", default=[], help="workers of separate-process clusters")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    rows = [in_process(args.texts)] + [on_cluster(w, args.texts) for w in args.workers]
    rows += [separate_processes(w, args.texts) for w in args.separate]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{when}; load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    print(table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"when": when, "load_average": [load_before[0], os.getloadavg()[0]], "rows": rows}, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
