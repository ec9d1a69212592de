"""Choose a default by the mean over kinds of data (issue #16), from ``bench.label_efficiency`` JSON files.

Each dataset's gain is its learning-curve area minus the baseline's (``tfidf/random``); gains are averaged
within a kind of data (``bench.variants``: 2-3 classes, 5-10 classes, many classes, imbalanced, long texts),
then over kinds, so ten few-class subsets do not outvote one long-text set. Also derived, from the same
curves: ``<representation>/margin+diversity>=K``, diversity only where the data has K classes or more.

    python -m bench.protocol RESULTS.json [MORE.json ...] [--rules 3,5,10,20]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from al_core.lab.simulation import BASELINE, DIVERSITY
from bench.variants import kind_of

Results = dict[str, dict[str, Any]]


def load(paths: Sequence[str | Path]) -> Results:
    """The datasets of every file, merged: a dataset in several files (same protocol, other keys) gets the keys of
    all of them, a later file's run of a key replacing an earlier one."""
    out: Results = {}
    for path in paths:
        for name, result in json.loads(Path(path).read_text(encoding="utf-8")).items():
            if name in out:
                result = {**result, "strategies": {**out[name]["strategies"], **result["strategies"]}}
                result["full_accuracy_by_model"] = {
                    **out[name]["full_accuracy_by_model"],
                    **result["full_accuracy_by_model"],
                }
            out[name] = result
    return out


def rule_key(representation: str, min_classes: int) -> str:
    return f"{representation}/{DIVERSITY}>={min_classes}"


def add_rule(results: Results, representation: str, min_classes: int) -> str:
    """Add the derived key (margin+diversity with ``min_classes`` classes or more, else margin); return it."""
    key = rule_key(representation, min_classes)
    for result in results.values():
        runs = result["strategies"]
        plain, diverse = runs.get(f"{representation}/margin"), runs.get(f"{representation}/{DIVERSITY}")
        if plain and diverse:
            runs[key] = diverse if result["n_classes"] >= min_classes else plain
    return key


def add_switch(results: Results, small: str, large: str, max_classes: int) -> str:
    """Add the derived key ``small`` on data with at most ``max_classes`` classes, ``large`` above (e.g. another
    representation for binary data); datasets missing the key they need are left out. Returns the key."""
    key = f"{small} up to {max_classes} classes else {large}"
    for result in results.values():
        runs = result["strategies"]
        chosen = runs.get(small if result["n_classes"] <= max_classes else large)
        if chosen:
            runs[key] = chosen
    return key


def scores(results: Results, key: str, baseline: str = BASELINE) -> dict[str, Any]:
    """Gains of ``key`` over ``baseline``: per dataset, per kind, the mean over kinds and over datasets, the
    smallest, how many datasets fall below the baseline and how many reach 95% of full accuracy (n95)."""
    gains: dict[str, float] = {}
    kinds: dict[str, list[float]] = {}
    reached = 0
    for name, result in results.items():
        runs = result["strategies"]
        if key not in runs or baseline not in runs:
            continue
        gains[name] = runs[key]["auc"] - runs[baseline]["auc"]
        kinds.setdefault(kind_of(name, result["n_classes"]), []).append(gains[name])
        reached += runs[key]["n95"] is not None
    by_kind = {kind: float(np.mean(values)) for kind, values in sorted(kinds.items())}
    return {
        "gains": gains,
        "by_kind": by_kind,
        "mean_over_kinds": float(np.mean(list(by_kind.values()))) if by_kind else float("nan"),
        "mean_over_datasets": float(np.mean(list(gains.values()))) if gains else float("nan"),
        "min": min(gains.values(), default=float("nan")),
        "below": sum(g < 0 for g in gains.values()),
        "n95_reached": reached,
        "datasets": len(gains),
    }


def keys_of(results: Results) -> list[str]:
    return list(dict.fromkeys(k for r in results.values() for k in r["strategies"]))


def choose(results: Results, baseline: str = BASELINE) -> str:
    """The key with the highest mean gain over kinds, among those run on every dataset."""
    every = [k for k in keys_of(results) if k != baseline and all(k in r["strategies"] for r in results.values())]
    return max(every, key=lambda k: scores(results, k, baseline)["mean_over_kinds"])


def paired(results: Results, key: str, reference: str) -> dict[str, Any]:
    """``key`` against ``reference`` on the datasets where both ran: mean AUC difference, the range, and on how
    many datasets ``key`` was better, equal (within 0.0005) or worse."""
    diffs = [
        r["strategies"][key]["auc"] - r["strategies"][reference]["auc"]
        for r in results.values()
        if key in r["strategies"] and reference in r["strategies"]
    ]
    return {
        "datasets": len(diffs),
        "mean": float(np.mean(diffs)) if diffs else float("nan"),
        "min": min(diffs, default=float("nan")),
        "max": max(diffs, default=float("nan")),
        "better": sum(d > 0.0005 for d in diffs),
        "worse": sum(d < -0.0005 for d in diffs),
    }


def seed_paired(result: dict[str, Any], key: str, reference: str) -> dict[str, Any] | None:
    """``key`` against ``reference`` on one dataset, seed by seed (the same split and first batch per seed): the mean
    AUC difference, its 95% t-interval over seeds and the seeds won / tied (within 0.0005) / lost; None unless
    both keys carry ``auc_by_seed`` for the same seeds."""
    runs = result["strategies"]
    a, b = (runs.get(k, {}).get("auc_by_seed") for k in (key, reference))
    if not a or not b or len(a) != len(b):
        return None
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    mean = float(diffs.mean())
    half = (
        float(stats.t.ppf(0.975, len(diffs) - 1) * diffs.std(ddof=1) / np.sqrt(len(diffs)))
        if len(diffs) > 1
        else float("nan")
    )
    return {
        "seeds": len(diffs),
        "mean": mean,
        "low": mean - half,
        "high": mean + half,
        "won": int((diffs > 0.0005).sum()),
        "lost": int((diffs < -0.0005).sum()),
    }


def seed_table(results: Results, keys: Sequence[str], reference: str) -> str:
    """Per dataset and key: the seed-by-seed comparison with ``reference`` (``seed_paired``); datasets without
    per-seed areas are left out."""
    lines = [
        f"| dataset | key | seeds | mean AUC difference vs {reference} | 95% interval | seeds won / tied / lost |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        for key in keys:
            d = seed_paired(result, key, reference) if key != reference else None
            if d:
                tied = d["seeds"] - d["won"] - d["lost"]
                lines.append(
                    f"| {name} | {key} | {d['seeds']} | {d['mean']:+.4f} | {d['low']:+.4f} .. {d['high']:+.4f} | "
                    f"{d['won']} / {tied} / {d['lost']} |"
                )
    return "\n".join(lines)


def paired_table(results: Results, reference: str) -> str:
    lines = [
        f"| key | datasets run with {reference} | mean AUC difference | range | better / equal / worse |",
        "|---|---|---|---|---|",
    ]
    for key in keys_of(results):
        if key in (reference, BASELINE):
            continue
        d = paired(results, key, reference)
        equal = d["datasets"] - d["better"] - d["worse"]
        lines.append(
            f"| {key} | {d['datasets']} | {d['mean']:+.4f} | {d['min']:+.3f} .. {d['max']:+.3f} | "
            f"{d['better']} / {equal} / {d['worse']} |"
        )
    return "\n".join(lines)


def summary_table(results: Results, baseline: str = BASELINE) -> str:
    kinds = sorted({kind_of(n, r["n_classes"]) for n, r in results.items()})
    lines = [
        f"| key | mean gain over kinds | mean over datasets | min | below {baseline} | n95 within budget | "
        + " | ".join(kinds)
        + " |",
        "|---|---|---|---|---|---|" + "---|" * len(kinds),
    ]
    for key in keys_of(results):
        if key == baseline:
            continue
        s = scores(results, key, baseline)
        per_kind = " | ".join(f"{s['by_kind'][k]:+.3f}" if k in s["by_kind"] else "-" for k in kinds)
        lines.append(
            f"| {key} | {s['mean_over_kinds']:+.3f} | {s['mean_over_datasets']:+.3f} | {s['min']:+.3f} | "
            f"{s['below']} of {s['datasets']} | {s['n95_reached']} of {s['datasets']} | {per_kind} |"
        )
    return "\n".join(lines)


def dataset_table(results: Results, keys: Sequence[str], baseline: str = BASELINE) -> str:
    """Per dataset: kind, classes, training rows, full-data accuracy per model, and per key its area (gain)."""
    lines = [
        f"| dataset | kind | classes | train rows | full-data acc. by model | {baseline} AUC | "
        + " | ".join(f"{k} AUC (gain), n95" for k in keys)
        + " |",
        "|---|---|---|---|---|---|" + "---|" * len(keys),
    ]
    for name, result in results.items():
        runs = result["strategies"]
        base = runs[baseline]["auc"]
        full = ", ".join(f"{m.split('-')[0]} {v:.3f}" for m, v in result["full_accuracy_by_model"].items())
        cells = [
            f"{runs[k]['auc']:.3f} ({runs[k]['auc'] - base:+.3f}), {runs[k]['n95'] or '-'}" if k in runs else "-"
            for k in keys
        ]
        lines.append(
            f"| {name} | {kind_of(name, result['n_classes'])} | {result['n_classes']} | {result['n_train']} | {full} | "
            f"{base:.3f} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.protocol", description=__doc__.split("\n")[0])
    p.add_argument("results", nargs="+", help="JSON written by bench.label_efficiency --json")
    p.add_argument("--rules", default="3,5,10,20", help="class counts from which diversity is tried (derived keys)")
    p.add_argument("--keys", help="comma-separated keys of the per-dataset table (default: all)")
    p.add_argument(
        "--switch",
        action="append",
        default=[],
        metavar="SMALL,LARGE,K",
        help="derived key: SMALL on data with at most K classes, LARGE above (repeatable)",
    )
    args = p.parse_args(argv)
    results = load(args.results)
    for representation in ("minilm", "tfidf+minilm", "tfidf"):
        for k in (int(x) for x in args.rules.split(",") if x.strip()):
            add_rule(results, representation, k)
    for switch in args.switch:
        small, large, k = switch.split(",")
        add_switch(results, small.strip(), large.strip(), int(k))
    print(summary_table(results))
    chosen = choose(results)
    print(f"\nChosen by the mean over kinds: {chosen}\n")
    print(paired_table(results, chosen) + "\n")
    keys = [k.strip() for k in args.keys.split(",")] if args.keys else [k for k in keys_of(results) if k != BASELINE]
    print(dataset_table(results, keys))
    per_seed = seed_table(results, keys, BASELINE)
    if per_seed.count("\n") > 1:
        print(f"\nSeed by seed, against {BASELINE}:\n\n{per_seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
