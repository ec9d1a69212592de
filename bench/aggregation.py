"""Which aggregation of several annotators' votes trains the better model: majority vote or Dawid-Skene? Simulated.

The shipped sample (CLINC150 banking, 15 intents) split into a training pool and a held-out test set (gold
labels). Every training task is labeled by ``--per-task`` of a team of simulated annotators, each right with their
own probability and otherwise choosing another intent uniformly at random. The votes are aggregated by majority
vote (ties at random) and by Dawid-Skene (``al_core.learning.agreement``); the model (``--model``) is trained on
each and on the gold labels (the ceiling) and measured on the test set. Two teams: annotators of different
reliability, and of equal reliability (where Dawid-Skene has nothing to exploit).

    python -m bench.aggregation [--seeds 3] [--per-task 3] [--model tfidf-logreg] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from al_core.lab.sample import sample_rows
from al_core.learning import agreement, models

TEAMS = {
    "different reliability": (0.95, 0.9, 0.7, 0.45, 0.3),
    "equal reliability": (0.7, 0.7, 0.7, 0.7, 0.7),
}


def simulate_votes(
    gold: Sequence[str], accuracies: Sequence[float], per_task: int, seed: int
) -> list[tuple[int, int, str]]:
    """``(task index, annotator, label)`` votes: ``per_task`` distinct annotators per task, each right with their
    accuracy, else another class chosen uniformly."""
    rng = np.random.default_rng(seed)
    classes = sorted(set(gold))
    votes = []
    for i, truth in enumerate(gold):
        for who in rng.choice(len(accuracies), size=per_task, replace=False):
            if rng.random() < accuracies[who]:
                votes.append((i, int(who), truth))
            else:
                others = [c for c in classes if c != truth]
                votes.append((i, int(who), others[int(rng.integers(len(others)))]))
    return votes


def run(
    texts: Sequence[str],
    gold: Sequence[str],
    accuracies: Sequence[float],
    *,
    per_task: int,
    model: str,
    seed: int,
    test_share: float = 1 / 3,
) -> dict[str, float]:
    """One team, one seed: label accuracy of each aggregation and the test accuracy of a model trained on it."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    n_test = int(len(texts) * test_share)
    test, train = order[:n_test], order[n_test:]
    train_gold = [gold[i] for i in train]
    votes = simulate_votes(train_gold, accuracies, per_task, seed)
    aggregated = {
        "majority vote": agreement.majority_vote(votes, seed),
        "Dawid-Skene": agreement.dawid_skene(votes).labels,
    }
    out: dict[str, float] = {}
    test_texts, test_gold = [texts[i] for i in test], [gold[i] for i in test]
    for rule, labels in [*aggregated.items(), ("gold", dict(enumerate(train_gold)))]:
        y = [labels[i] for i in range(len(train))]
        if rule != "gold":
            out[f"{rule} label accuracy"] = float(np.mean([a == b for a, b in zip(y, train_gold, strict=True)]))
        fitted = models.fit_model(model, [texts[i] for i in train], y, random_state=seed)
        predicted = fitted.predict(test_texts)
        out[f"{rule} test accuracy"] = float(np.mean([a == b for a, b in zip(predicted, test_gold, strict=True)]))
    return out


def markdown_table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| team (annotator accuracies) | seeds | label accuracy: majority vote | label accuracy: Dawid-Skene "
        "| test accuracy: majority vote | test accuracy: Dawid-Skene | test accuracy: gold labels |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['team']} {tuple(r['accuracies'])} | {r['seeds']} | {r['majority vote label accuracy']:.1%} "
        f"| {r['Dawid-Skene label accuracy']:.1%} | {r['majority vote test accuracy']:.1%} "
        f"| {r['Dawid-Skene test accuracy']:.1%} | {r['gold test accuracy']:.1%} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.aggregation", description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--per-task", type=int, default=3, help="annotators per task")
    p.add_argument("--model", default=models.DEFAULT_MODEL, choices=sorted(models.MODELS))
    p.add_argument("--limit", type=int, default=None, help="use only the first N rows of the sample (tests)")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    rows_data = sample_rows()[: args.limit]
    texts, gold = [t for t, _ in rows_data], [lab for _, lab in rows_data]
    rows = []
    for team, accuracies in TEAMS.items():
        runs = [
            run(texts, gold, accuracies, per_task=args.per_task, model=args.model, seed=s) for s in range(args.seeds)
        ]
        mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        rows.append({"team": team, "accuracies": list(accuracies), "seeds": args.seeds, **mean})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": args.model,
        "per_task": args.per_task,
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
