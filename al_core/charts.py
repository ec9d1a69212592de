"""Figures, the versions table and the plain-language summary of a project's model versions.

Pure functions of the stored iteration records (``History.iterations``): no Streamlit, no Label Studio,
so they are unit-tested. Only succeeded versions are plotted, oldest first, with x = the number of
training labels (the evaluation set is never trained on). Missing values (a cold-start version has no
metrics, the first model has no kappa, a version without evaluation labels has no accuracy) are left
out, never drawn as zero.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from al_core.history import IterationRecord
from al_core.progress import STEPS

STOP_KAPPA = 0.99  # the threshold of evaluation.should_stop (3 versions in a row at or above it)
MAX_CELL_TEXT = 30  # above this many classes the confusion matrix shows colours only
MAX_PER_VERSION = 30  # charts with one box or bar per version show the latest this many
STEP_ORDER = STEPS
_STEP_COLOURS = ("#4f46e5", "#a5b4fc", "#7c3aed", "#0d9488", "#5eead4", "#d97706", "#fcd34d", "#db2777", "#6b7280",
                 "#d1d5db")  # fmt: skip
X_LABELS = "Training labels (evaluation set excluded)"
TITLE_WIDTH, NOTE_WIDTH = 80, 115  # characters per line of a figure's title and of its note

BLUE, TEAL, GREY, AMBER, PINK, GREEN = "#4f46e5", "#0d9488", "#9ca3af", "#d97706", "#db2777", "#16a34a"

# metric key, legend name, colour, dash, mode; the CV line is drawn apart: it is measured on the labels
# the strategy chose (hard, atypical tasks), so it is not comparable with the held-out evaluation set.
_CURVES = (
    ("accuracy", "Accuracy (evaluation set)", BLUE, "solid", "lines+markers"),
    ("macro_f1", "Macro-F1 (evaluation set)", TEAL, "solid", "lines+markers"),
    ("cv_accuracy", "CV accuracy on actively chosen labels (biased)", GREY, "dot", "lines+markers"),
    ("live_agreement", "Live agreement: previous version vs new labels", AMBER, "solid", "markers"),
)


# -- small helpers -----------------------------------------------------------------------------------
def succeeded_versions(records: Sequence[IterationRecord]) -> list[IterationRecord]:
    """The succeeded iterations, oldest first (the only ones the charts plot)."""
    return sorted((r for r in records if r.status == "succeeded"), key=lambda r: r.number)


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _get(record: IterationRecord, group: str, key: str) -> Any:
    values = getattr(record, group) or {}
    return values.get(key) if isinstance(values, Mapping) else None


def _val(record: IterationRecord, group: str, key: str) -> float | None:
    return _num(_get(record, group, key))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _int(value: Any) -> int:
    number = _num(value)
    return int(number) if number is not None else 0


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=False)


def _categories(names: Sequence[Any]) -> list[str]:
    # Plotly renders a few tags (<b>, <a>, <br>...) inside axis labels: class names are user data, shown as text.
    return [_esc(name) for name in names]


def _wrap(text: str, width: int) -> list[str]:
    # Plotly never wraps titles: long ones are cut off in narrow columns, so break them here.
    return [line for part in text.split("<br>") for line in textwrap.wrap(part, width) or [""]]


def _style(fig: go.Figure, title: str, note: str = "", height: int | None = None) -> go.Figure:
    titles, notes = _wrap(title, TITLE_WIDTH), _wrap(note, NOTE_WIDTH) if note else []
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
        template="plotly_white",
        margin={"t": 34 + 22 * len(titles) + 18 * len(notes), "l": 60, "r": 30, "b": 80},
        legend={"orientation": "h", "yanchor": "top", "y": -0.24, "x": 0, "xanchor": "left"},
        hoverlabel={"align": "left"},
        height=height,
    )
    return fig


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14, "color": "#6b7280"}
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, title, height=300)


def _class_height(n: int, per_class: int = 24) -> int:
    return max(360, min(2400, per_class * n + 170))


# -- progress over versions ------------------------------------------------------------------------
def _curve_detail(record: IterationRecord, key: str) -> str:
    if key in ("accuracy", "macro_f1"):
        return f"on {_int(_get(record, 'metrics', 'n_eval'))} held-out evaluation labels"
    if key == "cv_accuracy":
        return "cross-validated on the training labels (optimistic)"
    return f"on {_int(_get(record, 'metrics', 'n_live'))} tasks labeled since the previous version"


def learning_curve(records: Sequence[IterationRecord]) -> go.Figure:
    """Evaluation-set accuracy and macro-F1, biased CV accuracy and live agreement vs training labels."""
    title = "Learning curve: does the model get better with more labels?"
    done = succeeded_versions(records)
    fig = go.Figure()
    roomy = len(done) <= 40  # beyond that, big markers merge into a thick band
    for key, name, colour, dash, mode in _CURVES:
        points = [(r, v) for r in done if (v := _val(r, "metrics", key)) is not None]
        if not points:
            continue
        fig.add_trace(
            go.Scatter(
                x=[r.n_labeled for r, _ in points],
                y=[v for _, v in points],
                name=name,
                mode=mode,
                line={"color": colour, "dash": dash, "width": 2 if dash == "solid" else 1.5},
                marker={"color": colour, "size": (9 if mode == "markers" else 6) if roomy else 4},
                customdata=[[r.model_version, _curve_detail(r, key)] for r, _ in points],
                hovertemplate=f"<b>%{{customdata[0]}}</b><br>{name}: %{{y:.1%}}<br>%{{customdata[1]}}"
                "<br>%{x:,} training labels<extra></extra>",
            )
        )
    if not fig.data:
        return _empty(title, "No measured model version yet: a model needs labels of at least two classes.")
    fig.update_xaxes(title=X_LABELS, rangemode="tozero")
    fig.update_yaxes(title="Share correct", range=[0, 1.02], tickformat=".0%")
    note = (
        "Solid: measured on the held-out evaluation set (trust these). Dotted grey: cross-validation on the "
        "labels the strategy picked (biased).<br>Orange markers: how often the previous version already "
        "predicted the label people then gave (low early on is normal: the queue serves the hardest tasks)."
    )
    return _style(fig, title, note)


def _latest(rows: list[Any], limit: int) -> tuple[list[Any], str]:
    """The last ``limit`` rows, and a note saying so when older ones were left out (bars and boxes per
    version stop being readable beyond a few dozen)."""
    if len(rows) <= limit:
        return rows, ""
    return rows[-limit:], f" Showing the latest {limit} of {len(rows)} versions."


def uncertainty_by_version(records: Sequence[IterationRecord], limit: int = MAX_PER_VERSION) -> go.Figure:
    """Per version (the latest ``limit``), a box of the strategy's informativeness over the unlabeled pool,
    drawn from the stored quantiles (whiskers: 5th and 95th percentile)."""
    title = "How unsure is each version about the unlabeled tasks? (lower = more certain)"
    done = [r for r in succeeded_versions(records) if _val(r, "uncertainty", "n")]
    rows = [(r, _get(r, "uncertainty", "quantiles") or {}) for r in done]
    rows = [(r, q) for r, q in rows if all(_num(q.get(k)) is not None for k in ("p05", "p25", "p50", "p75", "p95"))]
    if not rows:
        return _empty(title, "No scored pool yet: the first trained model scores the unlabeled tasks.")
    rows, shown = _latest(rows, limit)
    fig = go.Figure(
        go.Box(
            x=[r.model_version for r, _ in rows],
            lowerfence=[q["p05"] for _, q in rows],
            q1=[q["p25"] for _, q in rows],
            median=[q["p50"] for _, q in rows],
            q3=[q["p75"] for _, q in rows],
            upperfence=[q["p95"] for _, q in rows],
            name="Informativeness of unlabeled tasks",
            marker_color=BLUE,
            fillcolor="rgba(79,70,229,0.25)",
            showlegend=False,
        )
    )
    strategies = sorted({str((r.settings or {}).get("strategy", "?")) for r, _ in rows})
    note = (
        f"Strategy score ({_esc(', '.join(strategies))}): 0 = the model is sure, 1 = no idea. "
        "Box: middle half of the pool, line: median, whiskers: 5th to 95th percentile." + shown
    )
    if "random" in strategies:
        note += "<br>The random strategy's scores are random numbers and say nothing about certainty."
    fig.update_xaxes(title="Model version (oldest left)", type="category")
    fig.update_yaxes(title="Informativeness (strategy score)", range=[0, 1.02])
    return _style(fig, title, note)


def uncertainty_histogram(record: IterationRecord | None) -> go.Figure:
    """Bar chart of one version's stored 20-bin histogram of informativeness over the unlabeled pool."""
    name = record.model_version if record else "this version"
    title = f"{_esc(name)}: how many unlabeled tasks at each uncertainty level"
    counts = [_int(c) for c in (_get(record, "uncertainty", "histogram_counts") or [])] if record else []
    edges = [_num(e) for e in (_get(record, "uncertainty", "histogram_edges") or [])] if record else []
    if not counts or len(edges) != len(counts) + 1 or any(e is None for e in edges):
        return _empty(title, "No uncertainty histogram: this version did not score an unlabeled pool.")
    lows, highs = edges[:-1], edges[1:]
    fig = go.Figure(
        go.Bar(
            x=[(a + b) / 2 for a, b in zip(lows, highs, strict=True)],
            y=counts,
            width=[(b - a) * 0.95 for a, b in zip(lows, highs, strict=True)],
            marker_color=BLUE,
            customdata=[[a, b] for a, b in zip(lows, highs, strict=True)],
            hovertemplate="Score %{customdata[0]:.2f} to %{customdata[1]:.2f}: <b>%{y:,}</b> tasks<extra></extra>",
            name="Unlabeled tasks",
        )
    )
    strategy = (record.settings or {}).get("strategy", "strategy") if record else "strategy"
    note = (
        f"{sum(counts):,} tasks scored by {_esc(strategy)}. Left: the model is sure; right: it has no idea "
        "(the queue serves those first). Mass moving left over versions = a more confident model."
    )
    fig.update_xaxes(title="Informativeness (0 = sure, 1 = no idea)", range=[0, 1])
    fig.update_yaxes(title="Unlabeled tasks")
    return _style(fig, title, note)


def stopping_signals(records: Sequence[IterationRecord]) -> go.Figure:
    """Mean normalized entropy and Cohen's kappa between successive versions vs labels, with the 0.99 line."""
    title = "Stopping signals: is the model still changing its mind?"
    done = succeeded_versions(records)
    entropy = [(r, v) for r in done if (v := _val(r, "uncertainty", "mean_normalized_entropy")) is not None]
    kappa = [(r, v) for r in done if (v := _val(r, "uncertainty", "kappa")) is not None]
    if not entropy and not kappa:
        return _empty(title, "No scored pool yet: these signals start with the first trained model.")
    fig = go.Figure()
    series = (
        (entropy, "Mean normalized entropy of the pool (0 = sure, 1 = no idea)", PINK, "Entropy"),
        (kappa, "Cohen's kappa vs the previous version (1 = same predictions)", BLUE, "Kappa"),
    )
    for points, name, colour, short in series:
        if points:
            fig.add_trace(
                go.Scatter(
                    x=[r.n_labeled for r, _ in points],
                    y=[v for _, v in points],
                    name=name,
                    mode="lines+markers",
                    line={"color": colour},
                    customdata=[[r.model_version, _pct(_val(r, "uncertainty", "changed_share"))] for r, _ in points],
                    hovertemplate=f"<b>%{{customdata[0]}}</b><br>{short}: %{{y:.3f}}"
                    + ("<br>Predictions changed: %{customdata[1]}" if short == "Kappa" else "")
                    + "<br>%{x:,} training labels<extra></extra>",
                )
            )
    stop = [(r, v) for r, v in kappa if bool(_get(r, "uncertainty", "consider_stopping"))]
    if stop:
        fig.add_trace(
            go.Scatter(
                x=[r.n_labeled for r, _ in stop],
                y=[v for _, v in stop],
                name="Consider stopping here",
                mode="markers",
                marker={"symbol": "star", "size": 16, "color": GREEN, "line": {"color": "white", "width": 1}},
                customdata=[r.model_version for r, _ in stop],
                hovertemplate="<b>%{customdata}</b>: consider stopping<extra></extra>",
            )
        )
    fig.add_hline(
        y=STOP_KAPPA,
        line={"dash": "dash", "color": GREEN, "width": 1},
        annotation_text=f"stop when kappa stays above {STOP_KAPPA}",
        annotation_position="top left",
        annotation_font={"color": GREEN},
    )
    low = min([0.0, *(v - 0.05 for _, v in kappa)])
    fig.update_xaxes(title=X_LABELS, rangemode="tozero")
    fig.update_yaxes(title="Kappa and entropy", range=[low, 1.06])
    note = (
        "Kappa compares each version's predictions for the unlabeled pool with the previous version's. "
        "When it stays above 0.99 for 3 versions and entropy flattens, more labels barely change the "
        "model: consider stopping (check the weakest classes first)."
    )
    return _style(fig, title, note)


def step_timings(records: Sequence[IterationRecord], limit: int = MAX_PER_VERSION) -> go.Figure:
    """Stacked bars of the seconds each iteration step took, per succeeded version (the latest ``limit``)."""
    title = "Where the time goes: seconds per iteration step"
    done = [r for r in succeeded_versions(records) if r.timings]
    if not done:
        return _empty(title, "No timed iterations yet.")
    done, shown = _latest(done, limit)
    seen = {step for r in done for step in r.timings}
    steps = [s for s in STEP_ORDER if s in seen] + sorted(seen - set(STEP_ORDER))
    colours = dict(zip(STEP_ORDER, _STEP_COLOURS, strict=True))
    fig = go.Figure()
    for step in steps:
        fig.add_trace(
            go.Bar(
                x=[r.model_version for r in done],
                y=[_num(r.timings.get(step)) or 0.0 for r in done],
                name=step,
                marker_color=colours.get(step),
                hovertemplate=f"<b>%{{x}}</b><br>{_esc(step)}: %{{y:.1f}} s<extra></extra>",
            )
        )
    totals = [sum(_num(v) or 0.0 for v in r.timings.values()) for r in done]
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title="Model version (oldest left)", type="category")
    fig.update_yaxes(title="Seconds")
    note = (
        f"Latest: {totals[-1]:,.1f} s in total. Upload and read grow with the number of tasks; train with the "
        f"labels.{shown}"
    )
    fig = _style(fig, title, note)
    fig.update_layout(legend_traceorder="normal")
    return fig


# -- one version ---------------------------------------------------------------------------------------
def _count_map(values: Any) -> dict[str, int]:
    if not isinstance(values, Mapping):
        return {}
    return {str(k): _int(v) for k, v in values.items() if _int(v) > 0}


def _split_combos(counts: dict[str, int], known: set[str]) -> dict[str, int]:
    """Multi-label predictions are stored per label combination ("a|b"): count them per label."""
    out: dict[str, int] = {}
    for key, n in counts.items():
        parts = key.split("|") if key not in known and all(p in known for p in key.split("|")) else [key]
        for part in parts:
            out[part] = out.get(part, 0) + n
    return out


def class_balance(record: IterationRecord | None, labels: Sequence[str] = ()) -> go.Figure:
    """Share of each class among the training labels vs among the predictions for the unlabeled pool.

    ``labels`` fixes the order (the project's classes); classes found only in the data are appended.
    """
    name = record.model_version if record else "this version"
    title = f"Class balance of {_esc(name)}: training labels vs predictions for the unlabeled pool"
    train = _count_map(_get(record, "metrics", "train_class_counts")) if record else {}
    known = set(labels) | set(train) | set(_get(record, "metrics", "labels") or [] if record else [])
    predicted = (
        _split_combos(_count_map(_get(record, "uncertainty", "predicted_class_counts")), known) if record else {}
    )
    if not train and not predicted:
        return _empty(title, "No class counts: this version trained no model (cold start).")
    order = [str(c) for c in labels] + sorted((set(train) | set(predicted)) - {str(c) for c in labels})
    fig = go.Figure()
    for counts, legend, colour in (
        (train, "Training labels", GREY),
        (predicted, "Predicted for the unlabeled pool", BLUE),
    ):
        total = sum(counts.values())
        fig.add_trace(
            go.Bar(
                y=_categories(order),
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
    return _style(fig, title, note, height=_class_height(len(order), 30))


def _is_multi_label(labels: list[str], confusion: list[list[int]], n_eval: int) -> bool:
    # Multi-label confusion rows are (tn, fp, fn, tp) per label, each summing to n_eval; a single-label
    # matrix sums to n_eval in total.
    if len(labels) < 2 or any(len(row) != 4 for row in confusion):
        return False
    return sum(map(sum, confusion)) == len(labels) * n_eval


def _metrics_of(record: IterationRecord | None) -> tuple[list[str], list[list[int]], int]:
    if record is None:
        return [], [], 0
    labels = [str(x) for x in (_get(record, "metrics", "labels") or [])]
    confusion = [[_int(v) for v in row] for row in (_get(record, "metrics", "confusion") or [])]
    return labels, confusion, _int(_get(record, "metrics", "n_eval"))


def confusion_matrix(record: IterationRecord | None) -> go.Figure:
    """Heatmap of one version's evaluation-set confusion (rows true, columns predicted, counts as text).

    Cells are coloured by the share of the true class, so small classes stay visible; more than
    ``MAX_CELL_TEXT`` classes show colours only. Multi-label versions show (tn, fp, fn, tp) per label.
    """
    name = record.model_version if record else "this version"
    labels, confusion, n_eval = _metrics_of(record)
    title = f"Confusion matrix of {_esc(name)} on {n_eval:,} evaluation labels"
    if not labels or len(confusion) != len(labels):
        return _empty(title, "No evaluation-set labels for this version (or no model: cold start).")
    multi = _is_multi_label(labels, confusion, n_eval)
    columns = ["True negative", "False positive", "False negative", "True positive"] if multi else labels
    if not multi and any(len(row) != len(labels) for row in confusion):
        return _empty(title, "The stored confusion matrix does not match the stored labels.")
    shares = [[v / sum(row) if sum(row) else 0.0 for v in row] for row in confusion]
    show_text = len(labels) <= MAX_CELL_TEXT
    fig = go.Figure(
        go.Heatmap(
            z=shares,
            x=_categories(columns),
            y=_categories(labels),
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
    return _style(fig, title, note, height=_class_height(len(labels), 18 if len(labels) > 30 else 30))


def _f1_of(record: IterationRecord | None) -> dict[str, float]:
    values = _get(record, "metrics", "per_class_f1") if record else None
    if not isinstance(values, Mapping):
        return {}
    return {str(k): v for k, raw in values.items() if (v := _num(raw)) is not None}


def _f1_colour(value: float) -> str:
    return "#dc2626" if value < 0.6 else AMBER if value < 0.8 else GREEN


def per_class_f1(record: IterationRecord | None) -> go.Figure:
    """Horizontal bars of one version's per-class F1 on the evaluation set, weakest class on top."""
    name = record.model_version if record else "this version"
    title = f"Per-class F1 of {_esc(name)}: the weakest classes are on top"
    f1 = _f1_of(record)
    if not f1:
        return _empty(title, "No per-class scores for this version (no evaluation-set labels yet, or cold start).")
    order = sorted(f1, key=lambda c: (f1[c], c))
    train = _count_map(_get(record, "metrics", "train_class_counts"))
    fig = go.Figure(
        go.Bar(
            y=_categories(order),
            x=[f1[c] for c in order],
            orientation="h",
            marker_color=[_f1_colour(f1[c]) for c in order],
            customdata=[train.get(c, 0) for c in order],
            hovertemplate="<b>%{y}</b><br>F1 %{x:.1%}<br>%{customdata:,} training labels<extra></extra>",
            name="F1",
        )
    )
    macro = _val(record, "metrics", "macro_f1") if record else None
    if macro is not None:  # labelled in the note: a text on the line would cover the top bar
        fig.add_vline(x=macro, line={"dash": "dash", "color": GREY})
    fig.update_xaxes(title="F1 on the evaluation set", range=[0, 1.02], tickformat=".0%")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    note = (
        "F1 balances missed tasks and false alarms of a class (red below 60%, amber below 80%). "
        "Label more examples of the classes at the top."
    )
    if macro is not None:
        note += f" Dashed line: macro-F1 {macro:.1%}."
    return _style(fig, title, note, height=_class_height(len(order), 22))


def compare_versions(a: IterationRecord | None, b: IterationRecord | None) -> go.Figure:
    """Per-class F1 of two versions side by side, ordered by change (biggest drops on top)."""
    names = [r.model_version if r else "?" for r in (a, b)]
    accs = [_pct(_val(r, "metrics", "accuracy")) if r else "n/a" for r in (a, b)]
    title = f"Per-class F1: {_esc(names[0])} (accuracy {accs[0]}) vs {_esc(names[1])} (accuracy {accs[1]})"
    first, second = _f1_of(a), _f1_of(b)
    if not first and not second:
        return _empty(title, "Neither version has per-class scores (no evaluation-set labels, or cold start).")
    classes = set(first) | set(second)
    order = sorted(classes, key=lambda c: ((second.get(c, 0.0) - first.get(c, 0.0)), c))
    fig = go.Figure()
    for scores, name, colour in ((first, names[0], GREY), (second, names[1], BLUE)):
        fig.add_trace(
            go.Bar(
                y=_categories(order),
                x=[scores.get(c) for c in order],
                orientation="h",
                name=name,
                marker_color=colour,
                hovertemplate=f"<b>%{{y}}</b><br>{_esc(name)}: F1 %{{x:.1%}}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(title="F1 on the evaluation set", range=[0, 1.02], tickformat=".0%")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    note = (
        "Classes ordered by change: the biggest drops from the first to the second version are on top. "
        "No bar: the class was not in that version's evaluation labels or predictions."
    )
    return _style(fig, title, note, height=_class_height(len(order), 30))


# -- table and summary ----------------------------------------------------------------------------------
TABLE_COLUMNS = (
    "version",
    "status",
    "trigger",
    "started",
    "labels",
    "eval labels",
    "accuracy",
    "macro-F1",
    "CV accuracy (biased)",
    "live agreement",
    "kappa",
    "mean entropy",
    "predictions uploaded",
    "total seconds",
    "error",
)


def versions_table(records: Sequence[IterationRecord]) -> pd.DataFrame:
    """Every iteration (any status), newest first, one row each with ``TABLE_COLUMNS``; None stays missing."""
    rows = [
        (
            r.model_version,
            r.status,
            r.trigger,
            r.started_at,
            r.n_labeled,
            _int(_get(r, "counts", "n_eval_labeled")),
            _val(r, "metrics", "accuracy"),
            _val(r, "metrics", "macro_f1"),
            _val(r, "metrics", "cv_accuracy"),
            _val(r, "metrics", "live_agreement"),
            _val(r, "uncertainty", "kappa"),
            _val(r, "uncertainty", "mean_normalized_entropy"),
            _int(_get(r, "counts", "n_predictions")),
            round(sum(_num(v) or 0.0 for v in (r.timings or {}).values()), 1),
            r.error or "",
        )
        for r in sorted(records, key=lambda r: r.number, reverse=True)
    ]
    frame = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    floats = ["accuracy", "macro-F1", "CV accuracy (biased)", "live agreement", "kappa", "mean entropy"]
    frame[floats] = frame[floats].astype("float64")
    return frame


def _previous_with(done: list[IterationRecord], group: str, key: str) -> IterationRecord | None:
    return next((r for r in reversed(done[:-1]) if _val(r, group, key) is not None), None)


def _accuracy_sentences(latest: IterationRecord, before: IterationRecord | None) -> tuple[str, str, float | None]:
    """(accuracy_text, verdict sentence, delta in points)."""
    acc, n_eval = _val(latest, "metrics", "accuracy"), _int(_get(latest, "metrics", "n_eval"))
    if acc is None:
        if not _get(latest, "metrics", "train_class_counts") and _get(latest, "counts", "cold_start") is not False:
            return (
                "",
                f"{latest.model_version} was a cold start: there is no model yet (fewer than two classes labeled). Label tasks of at least two classes, then run the next iteration.",
                None,
            )
        return (
            "",
            f"{latest.model_version} has no evaluation-set labels yet, so its accuracy is unknown: keep labeling (the queue mixes in evaluation tasks).",
            None,
        )
    head = f"Accuracy is {acc:.1%} on {n_eval:,} held-out evaluation labels"
    if 0 < n_eval < 50:  # a rough 95% range, so nobody reads much into a few points on a tiny set
        margin = math.ceil(196 * math.sqrt(acc * (1 - acc) / n_eval))
        head = f"Accuracy is {acc:.1%} on only {n_eval} held-out evaluation labels (±{margin} points)"
    prev = _val(before, "metrics", "accuracy") if before else None
    if before is None or prev is None:
        return "first measured version", f"{head}: the first measured version.", None
    delta = (acc - prev) * 100
    text = f"{delta:+.1f} points since {before.model_version}"
    if delta >= 1:
        trend = "the model is improving"
    elif delta <= -1:
        trend = "the model got worse; check recent labels for mistakes or new kinds of tasks"
    else:
        trend = "about the same"
    return text, f"{head}, {text}: {trend}.", delta


def _uncertainty_sentence(latest: IterationRecord, before: IterationRecord | None) -> tuple[str, float | None]:
    now = _val(latest, "uncertainty", "mean_normalized_entropy")
    if now is None:
        return "", None
    prev = _val(before, "uncertainty", "mean_normalized_entropy") if before else None
    if before is None or prev is None:
        return f"Mean entropy over the unlabeled pool is {now:.2f} (0 = sure, 1 = no idea).", None
    delta = now - prev
    if delta <= -0.005:
        return (
            f"Mean entropy down from {prev:.2f} to {now:.2f}: the model is more certain about the unlabeled pool.",
            delta,
        )
    if delta >= 0.005:
        return (
            f"Mean entropy up from {prev:.2f} to {now:.2f}: the model is less certain (new kinds of tasks or classes?).",
            delta,
        )
    return f"Mean entropy steady at {now:.2f}.", delta


def _stopping_sentence(latest: IterationRecord) -> tuple[str, bool]:
    if bool(_get(latest, "uncertainty", "consider_stopping")):
        return (
            f"Predictions have stopped changing (kappa at or above {STOP_KAPPA} for 3 versions in a row): "
            "consider stopping, after checking the weakest classes.",
            True,
        )
    kappa = _val(latest, "uncertainty", "kappa")
    if kappa is None:
        return "", False
    if kappa >= STOP_KAPPA:
        return (
            f"Predictions barely changed since the previous version (kappa {kappa:.3f}); keep going until this holds for 3 versions.",
            False,
        )
    return f"Predictions still change between versions (kappa {kappa:.3f}): keep labeling.", False


def summary(records: Sequence[IterationRecord]) -> dict[str, Any]:
    """The plain-language verdict for the top of the Progress page, and the numbers behind it.

    Keys: ``n_versions``, ``latest``, ``previous``, ``accuracy``, ``accuracy_delta`` (points),
    ``accuracy_text``, ``macro_f1``, ``macro_f1_delta`` (points), ``n_labeled``, ``n_labeled_delta``,
    ``n_eval``, ``mean_entropy``, ``entropy_delta``, ``uncertainty_text``, ``kappa``,
    ``consider_stopping``, ``stopping_text``, ``last_failed`` (the newest iteration's error when it
    failed after the latest success), ``verdict``, and ``history``: the known values of ``accuracy``,
    ``macro_f1``, ``n_labeled``, ``mean_entropy`` and ``kappa``, oldest first (for sparklines).
    Never raises on missing or None values.
    """
    done = succeeded_versions(records)
    newest = max(records, key=lambda r: r.number, default=None)
    failed = None
    if newest is not None and newest.status == "failed" and (not done or newest.number > done[-1].number):
        failed = f"The last iteration ({newest.model_version}) failed: {newest.error or 'no error recorded'}"
    out: dict[str, Any] = dict.fromkeys(
        ("latest", "previous", "accuracy", "accuracy_delta", "macro_f1", "macro_f1_delta", "n_labeled"), None
    )
    out.update(n_labeled_delta=None, mean_entropy=None, entropy_delta=None, kappa=None, n_eval=0)
    out.update(n_versions=len(done), accuracy_text="", uncertainty_text="", stopping_text="", last_failed=failed)
    out["consider_stopping"] = False
    sources = {
        "accuracy": ("metrics", "accuracy"),
        "macro_f1": ("metrics", "macro_f1"),
        "n_labeled": ("counts", "n_labeled"),
        "mean_entropy": ("uncertainty", "mean_normalized_entropy"),
        "kappa": ("uncertainty", "kappa"),
    }
    out["history"] = {
        name: [v for r in done if (v := _val(r, group, key)) is not None] for name, (group, key) in sources.items()
    }
    if not done:
        out["verdict"] = "No model versions yet: label a few tasks in Label Studio, then run an iteration."
        return out
    latest = done[-1]
    before = _previous_with(done, "metrics", "accuracy")
    acc_text, acc_sentence, acc_delta = _accuracy_sentences(latest, before)
    unc_text, ent_delta = _uncertainty_sentence(latest, _previous_with(done, "uncertainty", "mean_normalized_entropy"))
    stop_text, stop = _stopping_sentence(latest)
    f1, f1_before = _val(latest, "metrics", "macro_f1"), _val(before, "metrics", "macro_f1") if before else None
    out.update(
        latest=latest.model_version,
        previous=before.model_version if before else None,
        accuracy=_val(latest, "metrics", "accuracy"),
        accuracy_delta=acc_delta,
        accuracy_text=acc_text,
        macro_f1=f1,
        macro_f1_delta=(f1 - f1_before) * 100 if f1 is not None and f1_before is not None else None,
        n_labeled=latest.n_labeled,
        n_labeled_delta=latest.n_labeled - done[-2].n_labeled if len(done) > 1 else None,
        n_eval=_int(_get(latest, "metrics", "n_eval")),
        mean_entropy=_val(latest, "uncertainty", "mean_normalized_entropy"),
        entropy_delta=ent_delta,
        uncertainty_text=unc_text,
        kappa=_val(latest, "uncertainty", "kappa"),
        consider_stopping=stop,
        stopping_text=stop_text,
    )
    out["verdict"] = " ".join(s for s in (acc_sentence, unc_text, stop_text) if s)
    return out
