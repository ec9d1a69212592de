"""The embedding step of two successive iterations on one pool: the first embeds every task, the second
only the tasks that are new or changed (``al_core.learning.embeddings.embed_tasks``, the function the iteration's
"embed" step calls, with the same per-project cache file).

    python -m bench.embedding_cache [--data CSV] [--pool 20000] [--changed 20] [--json OUT]

The pool is the CSV's texts (default: the shipped sample), repeated with a numbered suffix when the pool is
larger, so every task's text is distinct and really embedded. Between the two passes ``--changed`` tasks
get a new text and as many new tasks are added (what 20 annotations and a small import look like to the
cache; annotating a task does not change its text). A fresh process per pass would also reload the model:
each pass creates a new encoder, so the in-process memo is empty and only the disk cache can help.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from al_core.learning import embeddings
from bench.label_efficiency import DEFAULT_DATA, find_datasets, load_csv


def pool_texts(texts: Sequence[str], size: int) -> list[str]:
    """``size`` distinct texts: ``texts`` first, then repeats with a numbered suffix."""
    out = list(texts[:size])
    copy = 1
    while len(out) < size:
        out.extend(f"{t} (copy {copy})" for t in texts[: size - len(out)])
        copy += 1
    return out


def _pass(path: Path, ids: list[int], texts: list[str]) -> dict[str, float]:
    embeddings.forget_encoders()  # a new process: no memo, only the disk cache
    loaded = time.perf_counter()
    embeddings.get_encoder().load()  # the network loads lazily: timed apart from the embedding
    started = time.perf_counter()
    done = embeddings.embed_tasks(path, ids, texts)
    return {
        "load_s": round(started - loaded, 2),
        "embed_s": round(time.perf_counter() - started, 2),
        "n_embedded": done.n_embedded,
        "n_cached": done.n_cached,
    }


def run(texts: Sequence[str], pool: int, changed: int) -> dict[str, object]:
    base = pool_texts(texts, pool + changed)
    ids, first_texts = list(range(pool)), base[:pool]
    second_texts = [*first_texts[: pool - changed], *(f"{t} (edited)" for t in first_texts[pool - changed :])]
    second_texts += base[pool:]  # new tasks
    with tempfile.TemporaryDirectory() as tmp:
        path = embeddings.cache_path(Path(tmp), "bench", embeddings.DEFAULT_ENCODER)
        first = _pass(path, ids, first_texts)
        second = _pass(path, ids + list(range(pool, pool + changed)), second_texts)
    return {
        "pool": pool,
        "changed": changed,
        "threads": embeddings.THREADS,
        "first": first,
        "second": second,
        "ratio": round(second["embed_s"] / max(first["embed_s"], 1e-9), 4),
        "texts_per_s": round(first["n_embedded"] / max(first["embed_s"], 1e-9), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average": os.getloadavg(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.embedding_cache", description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="a text,label CSV (only the text column is used)")
    p.add_argument("--pool", type=int, default=20_000)
    p.add_argument("--changed", type=int, default=20, help="tasks edited and tasks added between the passes")
    p.add_argument("--json", help="write the result here")
    args = p.parse_args(argv)
    if embeddings.unavailable_reason():
        print(f"error: {embeddings.unavailable_reason()}", file=sys.stderr)
        return 2
    texts, _ = load_csv(find_datasets(args.data)[0][1])
    result = run(texts, args.pool, args.changed)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    first, second = result["first"], result["second"]
    print("| pass | embedded | from cache | embed step (s) | model load (s) |\n|---|---|---|---|---|")
    for name, data in (("first", first), ("second", second)):
        print(f"| {name} | {data['n_embedded']:,} | {data['n_cached']:,} | {data['embed_s']} | {data['load_s']} |")
    print(
        f"\nsecond / first = {result['ratio']}; {result['texts_per_s']} texts/s in the first pass; "
        f"peak RSS {result['peak_rss_mb']} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
