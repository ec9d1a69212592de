"""Pure figure and table builders for simulation results (``simulation.run_dataset``): no Streamlit here.

The Strategy lab page and ``bench.label_efficiency`` draw the same learning curves from these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from al_core.lab.simulation import ALL_STRATEGIES

# One color per strategy everywhere (random grey: the baseline the others are read against).
COLORS: Mapping[str, str] = dict(
    zip(ALL_STRATEGIES, ("#7f7f7f", "#1f77b4", "#d62728", "#2ca02c", "#9467bd"), strict=True)
)
PANEL_HEIGHT = 380


def figure(results: Mapping[str, Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Learning curves (test accuracy against labels), one panel per dataset, 95%/99%-of-ceiling lines.

    ``results`` maps a dataset name to a ``run_dataset`` result. Traces are named
    ``"<strategy> (AUC 0.812)"``, in the order of each result's strategies.
    """
    names = list(results)
    fig = make_subplots(rows=len(names), cols=1, subplot_titles=names, vertical_spacing=0.25 / max(len(names), 1))
    for row, name in enumerate(names, start=1):
        result = results[name]
        for strategy, data in result["strategies"].items():
            n, acc = zip(*data["curve"], strict=True)
            fig.add_scatter(
                x=n, y=acc, name=f"{strategy} (AUC {data['auc']:.3f})", legendgroup=name, row=row, col=1,
                line={"color": COLORS.get(strategy)}, legendgrouptitle_text=name,
            )  # fmt: skip
        for share, dash in ((0.95, "dash"), (0.99, "dot")):
            fig.add_hline(y=share * result["full_accuracy"], line_dash=dash, line_width=1, row=row, col=1)
        fig.update_xaxes(title_text="labels", row=row, col=1)
        fig.update_yaxes(title_text="test accuracy", row=row, col=1)
    default = "Label efficiency (dashed: 95%, dotted: 99% of full-split)"
    fig.update_layout(height=PANEL_HEIGHT * len(names), title=title or default)
    return fig


def table(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per strategy: AUC, labels to reach 95%/99% of the full-split accuracy, accuracy at budget."""
    rows = []
    for strategy, data in result["strategies"].items():
        last_n, last_acc = data["curve"][-1]
        rows.append(
            {
                "strategy": strategy,
                "AUC (accuracy)": round(data["auc"], 3),
                "labels to 95%": data["n95"],
                "labels to 99%": data["n99"],
                "labels at budget": last_n,
                "accuracy at budget": round(last_acc, 3),
                "macro-F1 at budget": round(data["curve_macro_f1"][-1][1], 3),
            }
        )
    return rows
