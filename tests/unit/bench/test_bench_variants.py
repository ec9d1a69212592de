"""The dataset variants of the accuracy protocol (bench/README.md, issue #16)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from bench import variants


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([("text", "label"), *rows])


def _source(n_classes: int, per_class: int) -> list[tuple[str, str]]:
    return [(f"text {c} {i} " + "x" * 50, f"class_{c}") for c in range(n_classes) for i in range(per_class)]


def test_few_class_subsets_balanced_and_imbalanced_shapes() -> None:
    rows = _source(12, 40)
    three = variants.make_variant(rows, variants.Variant("v", "s", 3), cap=1000, max_chars=20)
    assert len(Counter(lab for _, lab in three)) == 3 and len(three) == 120
    assert max(len(t) for t, _ in three) == 20
    imbalanced = Counter(
        lab for _, lab in variants.make_variant(rows, variants.Variant("v", "s", 4, "imbalanced"), 1000, 99)
    )
    assert sorted(imbalanced.values()) == [10, 10, 20, 40]  # halving from the largest, at least 10
    skewed = rows[:40] + rows[40:50]  # 40 and 10
    balanced = Counter(
        lab for _, lab in variants.make_variant(skewed, variants.Variant("v", "s", shape="balanced"), 1000, 99)
    )
    assert sorted(balanced.values()) == [10, 10]


def test_the_cap_keeps_every_class_and_the_draw_is_seeded() -> None:
    rows = _source(5, 100)
    capped = variants.make_variant(rows, variants.Variant("v", "s"), cap=100, max_chars=99)
    assert len(capped) == 100 and set(Counter(lab for _, lab in capped).values()) == {20}
    assert capped == variants.make_variant(rows, variants.Variant("v", "s"), cap=100, max_chars=99)
    own = variants.make_variant(rows, variants.Variant("v", "s", cap=50), cap=100, max_chars=99)
    assert len(own) == 50


def test_write_variants_skips_missing_sources(tmp_path: Path) -> None:
    _write(tmp_path / "in" / "sms_spam" / "data.csv", [("hi", "ham")] * 30 + [("win", "spam")] * 10)
    written = variants.write_variants(tmp_path / "in", tmp_path / "out")
    assert [p.parent.name for p in written] == ["sms_spam", "sms_spam_balanced"]
    assert Counter(lab for _, lab in variants.read_rows(written[1])) == {"ham": 10, "spam": 10}
    assert variants.main(["--data", str(tmp_path / "in"), "--out", str(tmp_path / "out2")]) == 0
