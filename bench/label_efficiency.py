"""Label efficiency: how many labels does each query strategy need? Simulated with an oracle.

The command line of ``al_core.lab.simulation`` (the engine, shared with the Strategy lab page): it reads
``text,label`` CSVs, runs every strategy on every seed and writes JSON, a plot and a Markdown table.

    python -m bench.label_efficiency --data DIR_OR_CSV [--budget 1000] [--batch 20] [--seeds 3]
        [--json OUT] [--plot OUT.html] [--jobs 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from al_core.errors import ConfigError, NotEnoughData
from al_core.lab.sample import SAMPLE_CSV
from al_core.lab.simulation import BASELINE, DEFAULT_CONFIG, DEFAULT_FIRST, DIVERSITY, FIRST_BATCH, run_dataset
from al_core.lab.simulation_charts import figure
from al_core.learning import embeddings, models

log = logging.getLogger("bench.label_efficiency")

DEFAULT_DATA = SAMPLE_CSV.parent


def find_datasets(path: str | Path) -> list[tuple[str, Path]]:
    """``(name, csv)`` pairs: a CSV itself, or every ``*/data.csv`` (named by folder) and ``*.csv`` in a folder."""
    path = Path(path)
    if path.is_file():
        return [(path.stem, path)]
    if not path.is_dir():
        raise ConfigError(f"No such file or folder: {str(path)!r}. Pass a CSV (text,label) or a folder of them.")
    found = [(p.parent.name, p) for p in sorted(path.glob("*/data.csv"))]
    found += [(p.stem, p) for p in sorted(path.glob("*.csv"))]
    if not found:
        raise ConfigError(f"No */data.csv or *.csv under {str(path)!r}.")
    return found


def load_csv(path: str | Path) -> tuple[list[str], list[str]]:
    """Texts and labels of a ``text,label`` CSV; rows with an empty text or label are dropped."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not {"text", "label"} <= set(reader.fieldnames or ()):
            raise ConfigError(f"{str(path)!r} needs the columns text,label. Got {reader.fieldnames}.")
        rows = [(r["text"], r["label"]) for r in reader if (r["text"] or "").strip() and (r["label"] or "").strip()]
    return [t for t, _ in rows], [lab for _, lab in rows]


def write_plot(results: dict[str, dict[str, Any]], path: str | Path) -> list[Path]:
    """HTML at ``path``; also a PNG next to it when kaleido is installed. Returns the files written."""
    fig, path = figure(results), Path(path)
    fig.write_html(path, include_plotlyjs=True)  # self-contained: opens offline
    written = [path]
    try:
        fig.write_image(path.with_suffix(".png"), width=1000, height=380 * len(results))
        written.append(path.with_suffix(".png"))
    except (ImportError, ValueError, RuntimeError) as err:  # kaleido missing or unusable
        log.info("No PNG: %s", (str(err).strip().splitlines() or ["kaleido unavailable"])[0])
    return written


def default_keys() -> list[str]:
    """What the command compares by default: the baseline, margin per representation, and the default."""
    if embeddings.unavailable_reason():
        return ["tfidf/random", "tfidf/margin", f"tfidf/{DIVERSITY}"]
    return list(dict.fromkeys(["tfidf/random", "tfidf/margin", "minilm/random", "minilm/margin", default_key()]))


def default_key() -> str:
    """The key of the app's default configuration (its model and strategy) when available here."""
    return DEFAULT_CONFIG if not embeddings.unavailable_reason() else "tfidf/margin"


def gains(result: dict[str, Any], baseline: str = BASELINE) -> dict[str, float]:
    """Learning-curve area of every key minus the baseline's (empty without the baseline)."""
    base = result["strategies"].get(baseline)
    return {k: v["auc"] - base["auc"] for k, v in result["strategies"].items()} if base else {}


def markdown_table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        f"| dataset | full-split acc. (by model) | strategy | AUC (acc.) | vs {BASELINE} | n95 | n99 | acc. at budget | "
        "macro-F1 at budget |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        gain = gains(result)
        by_model = result.get("full_accuracy_by_model") or {"best": result["full_accuracy"]}
        full = " / ".join(f"{model} {accuracy:.3f}" for model, accuracy in by_model.items())
        for strategy, data in result["strategies"].items():
            last_n, last_acc = data["curve"][-1]
            mark = " (default)" if result.get("default") == strategy else ""
            delta = f"{gain[strategy]:+.3f}" if strategy in gain else "-"
            lines.append(
                f"| {name} | {full} | {strategy}{mark} | {data['auc']:.3f} | {delta} | "
                f"{data['n95'] or '-'} | {data['n99'] or '-'} | {last_acc:.3f} ({last_n}) | "
                f"{data['curve_macro_f1'][-1][1]:.3f} |"
            )
    defaults = [gains(r)[r["default"]] for r in results.values() if r.get("default") in gains(r)]
    if defaults:
        lines.append(f"\nMean gain of the default over {BASELINE}: {sum(defaults) / len(defaults):+.3f} "
                     f"(min {min(defaults):+.3f}) on {len(defaults)} dataset(s).")  # fmt: skip
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.label_efficiency", description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="a text,label CSV or a folder of them")
    p.add_argument("--budget", type=int, default=1000)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--start", type=int, default=20, help="size of the random start")
    p.add_argument("--model", default=models.DEFAULT_MODEL, choices=sorted(models.MODELS), help="for bare strategies")
    p.add_argument(
        "--strategies",
        default=",".join(default_keys()),
        help="comma-separated '<representation>/<strategy>' keys (representations: "
        f"{', '.join(models.REPRESENTATIONS)}) or bare strategies (run with --model)",
    )
    p.add_argument(
        "--first", default=DEFAULT_FIRST, choices=FIRST_BATCH, help="the first batch every strategy starts from"
    )
    p.add_argument(
        "--compare-first",
        action="store_true",
        help="also run the best strategy from the other kind of first batch (the cold start's gain, reported apart)",
    )
    p.add_argument("--jobs", type=int, default=1, help="processes (results do not depend on it)")
    p.add_argument("--json", help="write the results here (after every dataset)")
    p.add_argument("--plot", help="write the learning curves here (HTML; PNG too when kaleido is installed)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, path in find_datasets(args.data):
            texts, labels = load_csv(path)
            log.info("%s: %d rows, %d classes", name, len(texts), len(set(labels)))
            last = [0.0]

            def progress(done: int, total: int, message: str, name: str = name, last: list = last) -> None:
                if time.monotonic() - last[0] > 10 or done == total:
                    last[0] = time.monotonic()
                    log.info("%s [%d/%d] %s", name, done, total, message)

            results[name] = run_dataset(
                texts, labels, strategy_names=names, budget=args.budget, batch=args.batch, seeds=args.seeds,
                model=args.model, start=args.start, first=args.first, compare_first=args.compare_first, jobs=args.jobs,
                on_progress=progress,
            )  # fmt: skip
            if default_key() in results[name]["strategies"]:
                results[name]["default"] = default_key()
            log.info("%s done in %.0f s", name, results[name]["seconds"])
            if args.json:
                Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    except (ConfigError, NotEnoughData) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.plot:
        log.info("Plot: %s", ", ".join(map(str, write_plot(results, args.plot))))
    print(markdown_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
