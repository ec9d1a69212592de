"""Embedding throughput in this process and on a Dask cluster of 1 and 2 worker processes (issue #18).

    nice -n 15 .venv/bin/python -m bench.dask_embedding [--texts 1024] [--workers 1 2] [--json OUT]

Each engine embeds the same number of distinct texts (the shipped sample, suffixed per engine so that no memo
holds a vector) through ``Engine.fill``, the call the iteration's "embed" step makes. The clusters are
``LocalCluster``s of one-thread worker processes on this machine (the scheduler runs in this process); each
worker loads the encoder before the clock starts (its load time is reported apart). Ratios in one run are what
to read on a shared machine: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from al_core.compute import chunks
from al_core.compute.engine import InProcess
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
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    rows = [in_process(args.texts)] + [on_cluster(w, args.texts) for w in args.workers]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{when}; load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    print(table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"when": when, "load_average": [load_before[0], os.getloadavg()[0]], "rows": rows}, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
