"""Likely label errors: how many of the labels the engine flags were really wrong? Measured with injected noise.

For each ``text,label`` CSV: a stratified random sample of ``--n`` rows, then ``--noise`` shares of its labels
flipped at random (each to another class, uniformly), then the engine's own label-issue finder
(``al_core.learning.label_issues``: 5-fold out-of-fold probabilities with the model, confident learning). Reported
against the flipped tasks: precision and recall of the flagged list (what the page and ``label-issues`` show), of
its top 10% of the tasks (``k = n / 10``) and of its top ``k = number flipped``.

    python -m bench.label_issues --data DIR_OR_CSV [--n 3000] [--noise 0.05 0.1 0.2] [--model minilm-logreg]
        [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from al_core import settings
from al_core.learning import embeddings, label_issues, models
from bench.label_efficiency import DEFAULT_DATA, find_datasets, load_csv

NOISE = (0.05, 0.10, 0.20)


def sample(texts: list[str], labels: list[str], n: int, seed: int) -> tuple[list[str], list[str]]:
    """A random sample of ``n`` rows (all when fewer), in random order; every class keeps its share."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))[: min(n, len(texts))]
    return [texts[i] for i in order], [labels[i] for i in order]


def flip(labels: list[str], share: float, seed: int) -> tuple[list[str], set[int]]:
    """``labels`` with ``round(share * n)`` of them, chosen at random, changed to another class chosen uniformly;
    and the indices changed."""
    rng = np.random.default_rng(seed)
    classes = sorted(set(labels))
    chosen = set(rng.choice(len(labels), size=round(share * len(labels)), replace=False).tolist())
    noisy = list(labels)
    for i in sorted(chosen):
        others = [c for c in classes if c != labels[i]]
        noisy[i] = others[int(rng.integers(len(others)))]
    return noisy, chosen


def _warm(texts: list[str], model: str) -> None:
    """Embed the texts once (cached under the data dir), so no fold embeds anything."""
    if not models.uses_embeddings(model):
        return
    encoder = models.resolve_params(model)["encoder"]
    scope = "texts:" + embeddings.text_key("".join(embeddings.text_key(t).hex() for t in texts)).hex()
    embeddings.embed_tasks(
        embeddings.cache_path(settings.cache_dir(), scope, encoder), list(range(len(texts))), texts, encoder=encoder
    )


def _load(path: Path) -> tuple[list[str], list[str]]:
    """``load_csv`` with the csv module's field limit raised while reading (20 Newsgroups holds longer posts); the
    limit is process-wide, so it is put back."""
    before = csv.field_size_limit(sys.maxsize)
    try:
        return load_csv(path)
    finally:
        csv.field_size_limit(before)


def measure(texts: list[str], labels: list[str], noise: float, model: str, seed: int = 0) -> dict[str, Any]:
    """One dataset at one noise rate: precision and recall of the flagged list, of the top 10% and of the top
    ``number flipped`` against the flipped tasks; and the seconds the finder took."""
    noisy, flipped = flip(labels, noise, seed)
    start = time.perf_counter()
    oof = label_issues.out_of_fold_proba(model, texts, noisy, random_state=seed)
    found = label_issues.find_issues(oof)
    seconds = time.perf_counter() - start
    ranking = found.ranking()
    flagged = [i.index for i in found.issues]
    p_flag, r_flag = label_issues.precision_recall_at(flagged, flipped, len(flagged))
    p10, r10 = label_issues.precision_recall_at(ranking, flipped, len(texts) // 10)
    pk, rk = label_issues.precision_recall_at(ranking, flipped, len(flipped))
    right = sum(1 for i in found.issues if i.index in flipped and i.suggested == labels[i.index])
    return {
        "noise": noise,
        "n": len(texts),
        "classes": len(set(labels)),
        "flipped": len(flipped),
        "flagged": len(flagged),
        "not_ranked": oof.n_rare,
        "precision_flagged": p_flag,
        "recall_flagged": r_flag,
        "precision_top10": p10,
        "recall_top10": r10,
        "precision_at_flipped": pk,
        "recall_at_flipped": rk,
        "suggested_right": right / max(1, sum(1 for i in flagged if i in flipped)),
        "seconds": round(seconds, 1),
    }


def markdown_table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| dataset | model | n | classes | noise | flipped | flagged | precision (flagged) | recall (flagged) "
        "| precision@10% | recall@10% | precision@k=flipped | suggestion = true label | seconds |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['dataset']} | {r['model']} | {r['n']:,} | {r['classes']} | {r['noise']:.0%} | {r['flipped']:,} "
        f"| {r['flagged']:,} | {r['precision_flagged']:.1%} | {r['recall_flagged']:.1%} | {r['precision_top10']:.1%} "
        f"| {r['recall_top10']:.1%} | {r['precision_at_flipped']:.1%} | {r['suggested_right']:.1%} | {r['seconds']} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.label_issues", description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="a text,label CSV or a folder of */data.csv")
    p.add_argument("--only", nargs="+", help="only these datasets (folder names), in this order")
    p.add_argument("--n", type=int, default=3000, help="rows sampled per dataset")
    p.add_argument("--noise", type=float, nargs="+", default=list(NOISE))
    p.add_argument("--model", default=models.DEFAULT_MODEL, choices=sorted(models.MODELS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    rows: list[dict[str, Any]] = []
    found = dict(find_datasets(args.data))
    for name, path in [(n, found[n]) for n in args.only] if args.only else found.items():
        texts, labels = sample(*_load(path), args.n, args.seed)
        _warm(texts, args.model)
        for noise in args.noise:
            row = {"dataset": name, "model": args.model, **measure(texts, labels, noise, args.model, args.seed)}
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows.append(row)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "rows": rows,
    }
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2))
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
