"""Tests for al_core.lab.simulation_charts on hand-made results (no model is fitted)."""

from __future__ import annotations

from typing import Any

from al_core.lab import simulation_charts as sc


def result(ceiling: float = 0.9) -> dict[str, Any]:
    def entry(curve: list[list[float]], auc: float, n95: int | None) -> dict[str, Any]:
        f1 = [[n, acc - 0.1] for n, acc in curve]
        return {"auc": auc, "n95": n95, "n99": None, "curve": curve, "auc_macro_f1": auc - 0.1, "curve_macro_f1": f1}

    return {
        "full_accuracy": ceiling,
        "strategies": {
            "random": entry([[20, 0.4], [40, 0.6], [60, 0.7]], 0.58, None),
            "margin": entry([[20, 0.4], [40, 0.86], [60, 0.88]], 0.75, 40),
        },
    }


def test_figure_has_a_trace_per_strategy_and_the_ceiling_lines() -> None:
    fig = sc.figure({"bank": result()})
    assert [t.name for t in fig.data] == ["random (AUC 0.580)", "margin (AUC 0.750)"]
    assert list(fig.data[1].x) == [20, 40, 60] and list(fig.data[1].y) == [0.4, 0.86, 0.88]
    assert fig.data[0].line.color == sc.COLORS["random"]
    lines = sorted(round(shape.y0, 3) for shape in fig.layout.shapes)
    assert lines == [0.855, 0.891]  # 95% and 99% of the 0.9 ceiling
    assert fig.layout.height == sc.PANEL_HEIGHT


def test_figure_stacks_one_panel_per_dataset_and_takes_a_title() -> None:
    fig = sc.figure({"a": result(), "b": result(0.8)}, title="Mine")
    assert fig.layout.title.text == "Mine" and fig.layout.height == 2 * sc.PANEL_HEIGHT
    assert [a.text for a in fig.layout.annotations] == ["a", "b"]


def test_table_rows() -> None:
    rows = sc.table(result())
    assert rows[1] == {
        "strategy": "margin",
        "AUC (accuracy)": 0.75,
        "labels to 95%": 40,
        "labels to 99%": None,
        "labels at budget": 60,
        "accuracy at budget": 0.88,
        "macro-F1 at budget": 0.78,
    }
    assert [r["strategy"] for r in rows] == ["random", "margin"]
