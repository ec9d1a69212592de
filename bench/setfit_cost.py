"""SetFit-style contrastive fine-tuning of the shipped encoder: its cost per fit and its gain (issue #16).

SetFit (Tunstall et al., 2022, *Efficient Few-Shot Learning Without Prompts*, arXiv:2209.11055) fine-tunes a
sentence encoder on pairs of labeled texts (same class -> cosine 1, different -> 0; CosineSimilarityLoss,
``num_iterations`` = 20 positive and 20 negative pairs per labeled text, batch 16, one epoch, lr 2e-5) and
then fits a logistic regression on the new vectors. The ``setfit`` package would add datasets, accelerate and
aiohttp to the pinned stack, so this measures the same recipe with sentence-transformers and PyTorch only.

For each label count: labeled texts are drawn at random (stratified seed), the encoder is fine-tuned from the
shipped weights, and the test accuracy of logistic regression (C=10, the app's) on frozen vs fine-tuned vectors
is reported with the seconds of fine-tuning and of re-embedding (a fine-tuned encoder must re-embed the pool).

    python -m bench.setfit_cost --data CSV [--labels 50,100,200] [--test 400] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.label_efficiency import load_csv

ITERATIONS = 20  # SetFit's default num_iterations
BATCH = 16
LR = 2e-5


def pairs(labels: Sequence[str], iterations: int = ITERATIONS, seed: int = 0) -> list[tuple[int, int, float]]:
    """SetFit's pairs: for every labeled text, ``iterations`` positives (same class, 1.0) and negatives (0.0).

    A class with a single text pairs it with itself. Returns ``(i, j, target)`` triples, shuffled.
    """
    rng = np.random.default_rng(seed)
    labels = list(labels)
    by_class: dict[str, np.ndarray] = {c: np.flatnonzero(np.array(labels) == c) for c in set(labels)}
    others = {c: np.flatnonzero(np.array(labels) != c) for c in by_class}
    out: list[tuple[int, int, float]] = []
    for _ in range(iterations):
        for i, label in enumerate(labels):
            out.append((i, int(rng.choice(by_class[label])), 1.0))
            if others[label].size:
                out.append((i, int(rng.choice(others[label])), 0.0))
    order = rng.permutation(len(out))
    return [out[k] for k in order]


def _fine_tune(texts: list[str], labels: list[str], seed: int) -> tuple[Any, float, int]:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss

    from al_core.learning import embeddings

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    model = SentenceTransformer(embeddings.resolve_encoder(embeddings.DEFAULT_ENCODER), device="cpu")
    loss = CosineSimilarityLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    triples = pairs(labels, seed=seed)
    model.train()
    started = time.perf_counter()
    for step, start in enumerate(range(0, len(triples), BATCH)):
        if step % 25 == 0:
            print(f"step {step} of {len(triples) // BATCH + 1}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
        chunk = triples[start : start + BATCH]
        left = model.tokenize([texts[i] for i, _, _ in chunk])
        right = model.tokenize([texts[j] for _, j, _ in chunk])
        value = loss([left, right], torch.tensor([t for _, _, t in chunk], dtype=torch.float32))
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    model.eval()
    return model, time.perf_counter() - started, len(triples) // BATCH + 1


def _accuracy(train_v: np.ndarray, train_y: list[str], test_v: np.ndarray, test_y: list[str]) -> float:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=10.0, max_iter=1000).fit(train_v, train_y)
    return float(np.mean(clf.predict(test_v) == np.array(test_y)))


def measure(texts: list[str], labels: list[str], n_labels: int, n_test: int, seed: int = 0) -> dict[str, Any]:
    """Frozen vs fine-tuned accuracy at ``n_labels`` labels, and the seconds each step took."""
    from al_core.learning import embeddings

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    test, train = order[:n_test], order[n_test : n_test + n_labels]
    train_x, train_y = [texts[i] for i in train], [labels[i] for i in train]
    test_x, test_y = [texts[i] for i in test], [labels[i] for i in test]
    encoder = embeddings.get_encoder()
    frozen = _accuracy(encoder.encode(train_x), train_y, encoder.encode(test_x), test_y)
    model, tune_s, steps = _fine_tune(train_x, train_y, seed)
    started = time.perf_counter()
    test_v = model.encode(test_x, batch_size=64, normalize_embeddings=True)
    embed_s = time.perf_counter() - started
    tuned = _accuracy(model.encode(train_x, normalize_embeddings=True), train_y, test_v, test_y)
    return {
        "labels": n_labels,
        "frozen_accuracy": frozen,
        "setfit_accuracy": tuned,
        "gain": tuned - frozen,
        "fine_tune_seconds": round(tune_s, 1),
        "steps": steps,
        "embed_texts_per_second": round(len(test_x) / embed_s, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.setfit_cost", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="a text,label CSV")
    p.add_argument("--labels", default="50,100,200")
    p.add_argument("--test", type=int, default=400)
    p.add_argument("--json")
    args = p.parse_args(argv)
    texts, labels = load_csv(args.data)
    out = []
    for n in (int(x) for x in args.labels.split(",")):
        out.append(measure(texts, labels, n, args.test))
        print(json.dumps(out[-1]), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
