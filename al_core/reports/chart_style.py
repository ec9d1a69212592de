"""The look shared by the dashboard's figures: colours, wrapped titles with a note, empty states, and
class names shown as text (Plotly renders a few tags inside labels; class names are user data)."""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

TITLE_WIDTH, NOTE_WIDTH = 80, 115  # characters per line of a figure's title and of its note
BLUE, TEAL, GREY, AMBER, PINK, GREEN = "#4f46e5", "#0d9488", "#9ca3af", "#d97706", "#db2777", "#16a34a"


def pct(value: float | None) -> str:
    """A share as a percentage with one decimal, or "n/a"."""
    return "n/a" if value is None else f"{value:.1%}"


def escape(text: Any) -> str:
    """User text made safe for Plotly labels and hover texts (shown as text, never as markup)."""
    return html.escape(str(text), quote=False)


def categories(names: Sequence[Any]) -> list[str]:
    # Plotly renders a few tags (<b>, <a>, <br>...) inside axis labels: class names are user data, shown as text.
    return [escape(name) for name in names]


def wrap_lines(text: str, width: int) -> list[str]:
    # Plotly never wraps titles: long ones are cut off in narrow columns, so break them here.
    return [line for part in text.split("<br>") for line in textwrap.wrap(part, width) or [""]]


def titled(fig: go.Figure, title: str, note: str = "", height: int | None = None) -> go.Figure:
    """The house style: a bold wrapped title, an optional grey note under it, legend below the plot."""
    titles, notes = wrap_lines(title, TITLE_WIDTH), wrap_lines(note, NOTE_WIDTH) if note else []
    text = f"<b>{'<br>'.join(titles)}</b>"
    if notes:
        text += f"<br><span style='font-size:12px;color:#6b7280'>{'<br>'.join(notes)}</span>"
    fig.update_layout(
        title={
            "text": text,
            "x": 0.01,
            "xanchor": "left",
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "pad": {"t": 14},
        },
        margin={"t": 34 + 22 * len(titles) + 18 * len(notes), "l": 60, "r": 30, "b": 80},
        legend={"orientation": "h", "yanchor": "top", "y": -0.24, "x": 0, "xanchor": "left"},
        hoverlabel={"align": "left"},
        height=height,
    )
    return fig


def empty_figure(title: str, message: str) -> go.Figure:
    """An empty state: the title and a message saying what to do to fill the figure."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14, "color": "#6b7280"}
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return titled(fig, title, height=300)


def class_height(n: int, per_class: int = 24) -> int:
    """Height in pixels of a figure with one row per class (360 to 2,400)."""
    return max(360, min(2400, per_class * n + 170))
