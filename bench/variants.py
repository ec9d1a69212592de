"""Dataset variants for choosing defaults by the mean over kinds of data (issue #16).

From ``text,label`` CSVs (a folder of ``<name>/data.csv``) it writes the variants of the protocol in
bench/README.md: few-class subsets (2, 3, 5, 10 classes) of the many-class sets, the many-class sets
themselves, imbalanced subsets (class sizes halving from one class to the next), the binary set as it is
and balanced, and long texts (20newsgroups, a few topics and all of them). Every variant is capped at
``--cap`` rows (a stratified draw) and each draw is seeded, so the same sources give the same files.

    python -m bench.variants --data DIR --out DIR [--cap 4000] [--max-chars 600]

A variant whose source is missing is skipped (a user's clone may hold other datasets).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_FIELD_LIMIT = 2**30  # 20newsgroups posts exceed csv's default 128 KiB field


@dataclass(frozen=True)
class Variant:
    """One variant: ``source`` folder name, ``n_classes`` (None = all), ``shape`` and the draw's ``seed``.

    ``shape``: ``"as_is"`` keeps the class sizes, ``"balanced"`` cuts every class to the smallest, and
    ``"imbalanced"`` halves the size from one class to the next (from the largest class size, at least 10 rows a class).
    """

    name: str
    source: str
    n_classes: int | None = None
    shape: str = "as_is"
    seed: int = 0
    cap: int | None = None  # rows at most for this variant (None = the run's cap)

    @property
    def kind(self) -> str:
        """The kind of data this variant stands for (the protocol averages within a kind, then over kinds)."""
        if self.source == "20newsgroups":
            return "long texts"
        if self.shape == "imbalanced" or self.source == "sms_spam" and self.shape == "as_is":
            return "imbalanced"
        if self.n_classes is None and self.source != "sms_spam":
            return "many classes"
        k = self.n_classes or 2
        return "2-3 classes" if k <= 3 else "5-10 classes"


VARIANTS: tuple[Variant, ...] = (
    *(Variant(f"banking77_c{k}", "banking77", k) for k in (2, 3, 5, 10)),
    Variant("banking77_all", "banking77"),
    *(Variant(f"clinc150_c{k}", "clinc150", k) for k in (2, 3, 5, 10)),
    Variant("clinc150_all", "clinc150"),
    Variant("banking77_c5_imbalanced", "banking77", 5, "imbalanced", seed=1),
    Variant("sms_spam", "sms_spam"),
    Variant("sms_spam_balanced", "sms_spam", shape="balanced"),
    # Long texts cost ~15x a short one to embed (256 tokens): fewer rows keep the protocol within an hour.
    Variant("20newsgroups_c4", "20newsgroups", 4, cap=800),
    Variant("20newsgroups_all", "20newsgroups", cap=800),
)


def kind_of(name: str, n_classes: int) -> str:
    """The kind of the dataset ``name``: its variant's kind, else by its number of classes."""
    found = next((v for v in VARIANTS if v.name == name), None)
    if found is not None:
        return found.kind
    return "2-3 classes" if n_classes <= 3 else "5-10 classes" if n_classes <= 10 else "many classes"


def read_rows(path: str | Path) -> list[tuple[str, str]]:
    """``(text, label)`` rows of a ``text,label`` CSV, dropping empty texts or labels."""
    previous = csv.field_size_limit(_FIELD_LIMIT)  # process-wide: restored, so importers keep the default
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = [(r["text"], r["label"]) for r in csv.DictReader(fh)]
    finally:
        csv.field_size_limit(previous)
    return [(t, lab) for t, lab in rows if (t or "").strip() and (lab or "").strip()]


def _cap(rows: list[tuple[str, str]], cap: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """At most ``cap`` rows, each class cut in proportion (at least 2 rows a class)."""
    if len(rows) <= cap:
        return rows
    by_class: dict[str, list[int]] = {}
    for i, (_, label) in enumerate(rows):
        by_class.setdefault(label, []).append(i)
    keep: list[int] = []
    for members in by_class.values():
        n = max(2, round(len(members) * cap / len(rows)))
        keep += rng.choice(members, size=min(n, len(members)), replace=False).tolist()
    return [rows[i] for i in sorted(keep)]


def make_variant(rows: Sequence[tuple[str, str]], variant: Variant, cap: int, max_chars: int) -> list[tuple[str, str]]:
    """The rows of ``variant`` drawn from its source's ``rows`` (texts cut to ``max_chars`` characters)."""
    rng = np.random.default_rng(variant.seed)
    classes = sorted({label for _, label in rows})
    if variant.n_classes is not None:
        classes = sorted(rng.choice(classes, size=min(variant.n_classes, len(classes)), replace=False).tolist())
    chosen = set(classes)
    kept = [(t[:max_chars], lab) for t, lab in rows if lab in chosen]
    if variant.shape != "as_is":
        by_class = {c: [r for r in kept if r[1] == c] for c in classes}
        smallest = min(len(v) for v in by_class.values())
        largest = max(len(v) for v in by_class.values())
        order = rng.permutation(len(classes))
        kept = []
        for rank, c in enumerate(classes[i] for i in order):
            size = smallest if variant.shape == "balanced" else max(10, largest >> rank)
            members = by_class[c]
            kept += [members[i] for i in sorted(rng.choice(len(members), size=min(size, len(members)), replace=False))]
    return _cap(kept, variant.cap or cap, rng)


def write_variants(data: str | Path, out: str | Path, cap: int = 4000, max_chars: int = 600) -> list[Path]:
    """Write ``<out>/<variant>/data.csv`` for every variant whose source is under ``data``; returns them."""
    data, out = Path(data), Path(out)
    written: list[Path] = []
    sources: dict[str, list[tuple[str, str]]] = {}
    for variant in VARIANTS:
        source = data / variant.source / "data.csv"
        if not source.is_file():
            continue
        if variant.source not in sources:
            sources[variant.source] = read_rows(source)
        rows = make_variant(sources[variant.source], variant, cap, max_chars)
        path = out / variant.name / "data.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "label"])
            writer.writerows(rows)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.variants", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="a folder of <name>/data.csv (text,label)")
    p.add_argument("--out", required=True, help="where the variants' folders are written")
    p.add_argument("--cap", type=int, default=4000, help="rows per variant at most")
    p.add_argument("--max-chars", type=int, default=600, help="texts are cut to this many characters")
    args = p.parse_args(argv)
    for path in write_variants(args.data, args.out, args.cap, args.max_chars):
        rows = read_rows(path)
        print(f"{path.parent.name}: {len(rows)} rows, {len({lab for _, lab in rows})} classes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
