"""Figures of one model version, per class: class balance, confusion matrix, per-class F1, and two
versions compared class by class. Pure functions of stored iteration records, like ``charts``."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from al_core.reports.chart_style import (
    AMBER,
    BLUE,
    GREEN,
    GREY,
    categories,
    class_height,
    empty_figure,
    escape,
    pct,
    titled,
)
from al_core.store.records import IterationRecord

MAX_CELL_TEXT = 30  # above this many classes the confusion matrix shows colours only


def class_balance(record: IterationRecord | None, labels: Sequence[str] = ()) -> go.Figure:
    """Share of each class among the training labels vs among the predictions for the unlabeled pool.

    ``labels`` fixes the order (the project's classes); classes found only in the data are appended.
    """
    name = record.model_version if record else "this version"
    title = f"Class balance of {escape(name)}: training labels vs predictions for the unlabeled pool"
    train = {c: n for c, n in record.metrics.train_class_counts.items() if n > 0} if record else {}
    predicted = {c: n for c, n in record.uncertainty.predicted_per_label().items() if n > 0} if record else {}
    if not train and not predicted:
        return empty_figure(title, "No class counts: this version trained no model (cold start).")
    order = [str(c) for c in labels] + sorted((set(train) | set(predicted)) - {str(c) for c in labels})
    fig = go.Figure()
    for counts, legend, colour in (
        (train, "Training labels", GREY),
        (predicted, "Predicted for the unlabeled pool", BLUE),
    ):
        total = sum(counts.values())
        fig.add_trace(
            go.Bar(
                y=categories(order),
                x=[counts.get(c, 0) / total if total else 0.0 for c in order],
                orientation="h",
                name=f"{legend} ({total:,})",
                marker_color=colour,
                customdata=[[counts.get(c, 0), total] for c in order],
                hovertemplate=f"<b>%{{y}}</b><br>{legend}: %{{customdata[0]:,}} of %{{customdata[1]:,}}"
                " (%{x:.1%})<extra></extra>",
            )
        )
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(title="Share", tickformat=".0%", rangemode="tozero")
    fig.update_yaxes(autorange="reversed", type="category", automargin=True)
    note = (
        "A class much rarer in the training labels than in the predictions is under-represented; "
        "a class the model never predicts may need more examples."
    )
    return titled(fig, title, note, height=class_height(len(order), 30))


def confusion_matrix(record: IterationRecord | None) -> go.Figure:
    """Heatmap of one version's evaluation-set confusion (rows true, columns predicted, counts as text).

    Cells are coloured by the share of the true class, so small classes stay visible; more than
    ``MAX_CELL_TEXT`` classes show colours only. Multi-label versions show (tn, fp, fn, tp) per label.
    """
    name = record.model_version if record else "this version"
    labels = list(record.metrics.labels) if record else []
    confusion = [list(row) for row in record.metrics.confusion] if record else []
    n_eval = (record.metrics.n_eval if record else None) or 0
    title = f"Confusion matrix of {escape(name)} on {n_eval:,} evaluation labels"
    if not labels or len(confusion) != len(labels):
        return empty_figure(title, "No evaluation-set labels for this version (or no model: cold start).")
    multi = record is not None and record.multi_label
    columns = ["True negative", "False positive", "False negative", "True positive"] if multi else labels
    if any(len(row) != len(columns) for row in confusion):
        return empty_figure(title, "The stored confusion matrix does not match the stored labels.")
    shares = [[v / sum(row) if sum(row) else 0.0 for v in row] for row in confusion]
    show_text = len(labels) <= MAX_CELL_TEXT
    fig = go.Figure(
        go.Heatmap(
            z=shares,
            x=categories(columns),
            y=categories(labels),
            text=confusion,
            texttemplate="%{text}" if show_text else None,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": {"text": "Share of<br>the row"}, "tickformat": ".0%"},
            hovertemplate="True: <b>%{y}</b><br>Predicted: <b>%{x}</b><br>%{text} tasks (%{z:.0%} of the row)"
            "<extra></extra>",
            xgap=1,
            ygap=1,
        )
    )
    font = 12 if len(labels) <= 20 else 10 if len(labels) <= 50 else 8
    fig.update_xaxes(title="Predicted label" if not multi else "Outcome", type="category", tickfont={"size": font})
    fig.update_yaxes(title="True label", type="category", autorange="reversed", tickfont={"size": font})
    note = (
        "Per label: how the model's yes/no decisions turned out (multi-label)."
        if multi
        else "Diagonal = correct. Colour = share of each true class, so small classes stay visible; "
        "off-diagonal cells show which classes get confused."
    )
    if not show_text:
        note += f" Counts are in the hover ({len(labels)} classes)."
    return titled(fig, title, note, height=class_height(len(labels), 18 if len(labels) > 30 else 30))


def _f1_of(record: IterationRecord | None) -> dict[str, float]:
    return dict(record.metrics.per_class_f1) if record else {}


def _f1_colour(value: float) -> str:
    return "#dc2626" if value < 0.6 else AMBER if value < 0.8 else GREEN


def per_class_f1(record: IterationRecord | None) -> go.Figure:
    """Horizontal bars of one version's per-class F1 on the evaluation set, weakest class on top."""
    name = record.model_version if record else "this version"
    title = f"Per-class F1 of {escape(name)}: the weakest classes are on top"
    f1 = _f1_of(record)
    if not f1:
        return empty_figure(
            title, "No per-class scores for this version (no evaluation-set labels yet, or cold start)."
        )
    order = sorted(f1, key=lambda c: (f1[c], c))
    train = record.metrics.train_class_counts if record else {}
    fig = go.Figure(
        go.Bar(
            y=categories(order),
            x=[f1[c] for c in order],
            orientation="h",
            marker_color=[_f1_colour(f1[c]) for c in order],
            marker_line={"color": [_f1_colour(f1[c]) for c in order], "width": 2},  # a class at 0 shows as a line
            text=[f"{f1[c]:.0%}" for c in order],  # the value beside every bar, "0%" included
            textposition="outside",
            cliponaxis=False,
            customdata=[train.get(c, 0) for c in order],
            hovertemplate="<b>%{y}</b><br>F1 %{x:.1%}<br>%{customdata:,} training labels<extra></extra>",
            name="F1",
        )
    )
    macro = record.metrics.macro_f1 if record else None
    if macro is not None:  # labelled in the note: a text on the line would cover the top bar
        fig.add_vline(x=macro, line={"dash": "dash", "color": GREY})
    fig.update_xaxes(title="F1 on the evaluation set", range=[0, 1.12], tickformat=".0%")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    note = (
        "F1 balances missed tasks and false alarms of a class (red below 60%, amber below 80%). "
        "Label more examples of the classes at the top."
    )
    if macro is not None:
        note += f" Dashed line: macro-F1 {macro:.1%}."
    return titled(fig, title, note, height=class_height(len(order), 22))


def compare_versions(a: IterationRecord | None, b: IterationRecord | None) -> go.Figure:
    """Per-class F1 of two versions side by side, ordered by change (biggest drops on top)."""
    names = [r.model_version if r else "?" for r in (a, b)]
    accs = [pct(r.metrics.accuracy) if r else "n/a" for r in (a, b)]
    title = f"Per-class F1: {escape(names[0])} (accuracy {accs[0]}) vs {escape(names[1])} (accuracy {accs[1]})"
    first, second = _f1_of(a), _f1_of(b)
    if not first and not second:
        return empty_figure(title, "Neither version has per-class scores (no evaluation-set labels, or cold start).")
    classes = set(first) | set(second)
    order = sorted(classes, key=lambda c: ((second.get(c, 0.0) - first.get(c, 0.0)), c))
    fig = go.Figure()
    for scores, name, colour in ((first, names[0], GREY), (second, names[1], BLUE)):
        fig.add_trace(
            go.Bar(
                y=categories(order),
                x=[scores.get(c) for c in order],
                orientation="h",
                name=name,
                marker_color=colour,
                marker_line={"color": colour, "width": 2},  # a class at 0 shows as a line, not as no bar
                text=["" if scores.get(c) is None else f"{scores[c]:.0%}" for c in order],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"<b>%{{y}}</b><br>{escape(name)}: F1 %{{x:.1%}}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(title="F1 on the evaluation set", range=[0, 1.02], tickformat=".0%")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    note = (
        "Classes ordered by change: the biggest drops from the first to the second version are on top. "
        "A 0% bar: the version got none of that class right; no bar: the class was not in that version's "
        "evaluation labels or predictions."
    )
    return titled(fig, title, note, height=class_height(len(order), 30))
