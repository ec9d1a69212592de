"""Figures of a project's progress over its model versions: learning curve, uncertainty, stopping
signals and step timings.

Pure functions of the stored iteration records (``History.iterations``): no Streamlit, no Label Studio,
so they are unit-tested. Only succeeded versions are plotted, oldest first, with x = the number of
training labels (the evaluation set is never trained on). Missing values (a cold-start version has no
metrics, the first model has no kappa, a version without evaluation labels has no accuracy) are left
out, never drawn as zero. Per-class figures are in ``class_charts``; the table and the plain-language
summary in ``version_summary``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go

from al_core.learning.stopping import STOP_KAPPA, STOP_PATIENCE
from al_core.progress import STEPS
from al_core.reports.chart_style import AMBER, BLUE, GREEN, GREY, PINK, TEAL, empty_figure, escape, pct, titled
from al_core.store.records import IterationRecord, StoredMetrics, succeeded_versions

MAX_PER_VERSION = 30  # charts with one box or bar per version show the latest this many
STEP_ORDER = STEPS
_STEP_COLOURS = ("#4f46e5", "#a5b4fc", "#7c3aed", "#0d9488", "#5eead4", "#d97706", "#fcd34d", "#db2777", "#6b7280",
                 "#d1d5db")  # fmt: skip
X_LABELS = "Training labels (evaluation set excluded)"


def _on_eval(m: StoredMetrics) -> str:
    return f"on {m.n_eval or 0} held-out evaluation labels"


def _on_live(m: StoredMetrics) -> str:
    return f"on {m.n_live or 0} tasks labeled since the previous version"


def _cross_validated(_: StoredMetrics) -> str:
    return "cross-validated on the training labels (optimistic)"


# value, legend name, colour, dash, mode, hover detail; the CV line is drawn apart: it is measured on the labels
# the strategy chose (hard, atypical tasks), so it is not comparable with the held-out evaluation set.
_CURVES: tuple[tuple[Callable[[StoredMetrics], float | None], str, str, str, str, Callable[[StoredMetrics], str]], ...] = (
    (lambda m: m.accuracy, "Accuracy (evaluation set)", BLUE, "solid", "lines+markers", _on_eval),
    (lambda m: m.macro_f1, "Macro-F1 (evaluation set)", TEAL, "solid", "lines+markers", _on_eval),
    (lambda m: m.cv_accuracy, "CV accuracy on actively chosen labels (biased)", GREY, "dot", "lines+markers", _cross_validated),
    (lambda m: m.live_agreement, "Live agreement: previous version vs new labels", AMBER, "solid", "markers", _on_live),
)  # fmt: skip


_INTERVALS: dict[str, Callable[[StoredMetrics], tuple[float, float] | None]] = {
    "Accuracy (evaluation set)": lambda m: m.accuracy_ci,
    "Macro-F1 (evaluation set)": lambda m: m.macro_f1_ci,
}


def _error_bars(name: str, points: list[tuple[IterationRecord, float]], colour: str) -> dict[str, Any] | None:
    """Asymmetric error bars of the 95% intervals of ``name``'s points (None when the curve has no interval)."""
    interval = _INTERVALS.get(name)
    if interval is None:
        return None
    cis = [interval(r.metrics) or (v, v) for r, v in points]
    return {
        "type": "data",
        "symmetric": False,
        "array": [max(high - v, 0.0) for (_, high), (_, v) in zip(cis, points, strict=True)],
        "arrayminus": [max(v - low, 0.0) for (low, _), (_, v) in zip(cis, points, strict=True)],
        "color": colour,
        "thickness": 1.5,
        "width": 4,
    }


def _interval_hover(name: str, m: StoredMetrics) -> str:
    interval = _INTERVALS.get(name)
    ci = interval(m) if interval else None
    return "" if ci is None else f"<br>95% interval: {ci[0]:.1%} to {ci[1]:.1%}"


def learning_curve(records: Sequence[IterationRecord]) -> go.Figure:
    """Evaluation-set accuracy and macro-F1 with their 95% intervals as error bars, biased CV accuracy and live
    agreement vs training labels."""
    title = "Learning curve: does the model get better with more labels?"
    done = succeeded_versions(records)
    fig = go.Figure()
    roomy = len(done) <= 40  # beyond that, big markers merge into a thick band
    for value, name, colour, dash, mode, detail in _CURVES:
        points = [(r, v) for r in done if (v := value(r.metrics)) is not None]
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
                error_y=_error_bars(name, points, colour),
                customdata=[[r.model_version, detail(r.metrics) + _interval_hover(name, r.metrics)] for r, _ in points],
                hovertemplate=f"<b>%{{customdata[0]}}</b><br>{name}: %{{y:.1%}}<br>%{{customdata[1]}}"
                "<br>%{x:,} training labels<extra></extra>",
            )
        )
    if not fig.data:
        return empty_figure(title, "No measured model version yet: a model needs labels of at least two classes.")
    fig.update_xaxes(title=X_LABELS, rangemode="tozero")
    fig.update_yaxes(title="Share correct", range=[0, 1.02], tickformat=".0%")
    note = (
        "Solid: measured on the held-out evaluation set, with 95% intervals as bars (few labels: long bars). "
        "Dotted grey: cross-validation on the "
        "labels the strategy picked (biased).<br>Orange markers: how often the previous version already "
        "predicted the label people then gave (low early on is normal: the queue serves the hardest tasks)."
    )
    return titled(fig, title, note)


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
    done = [r for r in succeeded_versions(records) if r.uncertainty.n]
    rows = [(r, r.uncertainty.quantiles) for r in done]
    rows = [(r, q) for r, q in rows if all(k in q for k in ("p05", "p25", "p50", "p75", "p95"))]
    if not rows:
        return empty_figure(title, "No scored pool yet: the first trained model scores the unlabeled tasks.")
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
    strategies = sorted({r.settings.strategy or "?" for r, _ in rows})
    note = (
        f"Strategy score ({escape(', '.join(strategies))}): 0 = the model is sure, 1 = no idea. "
        "Box: middle half of the pool, line: median, whiskers: 5th to 95th percentile." + shown
    )
    if "random" in strategies:
        note += "<br>The random strategy's scores are random numbers and say nothing about certainty."
    fig.update_xaxes(title="Model version (oldest left)", type="category")
    fig.update_yaxes(title="Informativeness (strategy score)", range=[0, 1.02])
    return titled(fig, title, note)


def _histogram(record: IterationRecord | None) -> tuple[list[int], list[float]] | None:
    """A version's stored (counts, edges), or None when it has none (cold start, no pool, malformed)."""
    counts = list(record.uncertainty.histogram_counts) if record else []
    edges = list(record.uncertainty.histogram_edges) if record else []
    return (counts, edges) if counts and len(edges) == len(counts) + 1 else None


def _histogram_bars(record: IterationRecord, counts: list[int], edges: list[float], colour: str) -> go.Bar:
    lows, highs = edges[:-1], edges[1:]
    return go.Bar(
        x=[(a + b) / 2 for a, b in zip(lows, highs, strict=True)],
        y=counts,
        width=[(b - a) * 0.95 for a, b in zip(lows, highs, strict=True)],
        marker_color=colour,
        customdata=[[a, b] for a, b in zip(lows, highs, strict=True)],
        hovertemplate=f"{escape(record.model_version)}<br>Score %{{customdata[0]:.2f}} to %{{customdata[1]:.2f}}: "
        "<b>%{y:,}</b> tasks<extra></extra>",
        name=f"{escape(record.model_version)} ({sum(counts):,} unlabeled tasks)",
    )


def uncertainty_histogram(record: IterationRecord | None, previous: IterationRecord | None = None) -> go.Figure:
    """Bar chart of a version's stored 20-bin histogram of informativeness over the unlabeled pool, overlaid
    on ``previous``'s (the version before it) when that one has a histogram too; the title says which."""
    name = record.model_version if record else "this version"
    shown = _histogram(record)
    before = _histogram(previous) if shown is not None and previous is not None else None
    if before is None:
        title = f"{escape(name)} alone: how many unlabeled tasks at each uncertainty level"
    else:
        title = f"{escape(name)} vs {escape(previous.model_version)}: unlabeled tasks at each uncertainty level"
    if shown is None or record is None:
        return empty_figure(title, "No uncertainty histogram: this version did not score an unlabeled pool.")
    fig = go.Figure()
    if before is not None and previous is not None:
        fig.add_trace(_histogram_bars(previous, *before, GREY))
    fig.add_trace(_histogram_bars(record, *shown, BLUE))
    strategy = record.settings.strategy or "strategy"
    compared = (
        f" Grey: {escape(previous.model_version)}, the version before."
        if before is not None and previous is not None
        else " The version before has no histogram to compare with."
        if previous is not None
        else ""
    )
    note = (
        f"{sum(shown[0]):,} tasks scored by {escape(strategy)}. Left: the model is sure; right: it has no idea "
        f"(the queue serves those first). Mass moving left = a more confident model.{compared}"
    )
    fig.update_layout(barmode="overlay")
    fig.update_traces(opacity=0.65 if before is not None else 1.0)
    fig.update_xaxes(title="Informativeness (0 = sure, 1 = no idea)", range=[0, 1])
    fig.update_yaxes(title="Unlabeled tasks")
    return titled(fig, title, note)


def stopping_signals(records: Sequence[IterationRecord]) -> go.Figure:
    """Mean normalized entropy and Cohen's kappa between successive versions vs labels, with the stopping line."""
    title = "Stopping signals: is the model still changing its mind?"
    done = succeeded_versions(records)
    entropy = [(r, v) for r in done if (v := r.uncertainty.mean_normalized_entropy) is not None]
    kappa = [(r, v) for r in done if (v := r.uncertainty.kappa) is not None]
    if not entropy and not kappa:
        return empty_figure(title, "No scored pool yet: these signals start with the first trained model.")
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
                    customdata=[[r.model_version, pct(r.uncertainty.changed_share)] for r, _ in points],
                    hovertemplate=f"<b>%{{customdata[0]}}</b><br>{short}: %{{y:.3f}}"
                    + ("<br>Predictions changed: %{customdata[1]}" if short == "Kappa" else "")
                    + "<br>%{x:,} training labels<extra></extra>",
                )
            )
    stop = [(r, v) for r, v in kappa if r.uncertainty.consider_stopping]
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
        f"When it stays above {STOP_KAPPA} for {STOP_PATIENCE} versions and entropy flattens, more labels barely "
        "change the model: consider stopping (check the weakest classes first)."
    )
    return titled(fig, title, note)


def step_timings(records: Sequence[IterationRecord], limit: int = MAX_PER_VERSION) -> go.Figure:
    """Stacked bars of the seconds each iteration step took, per succeeded version (the latest ``limit``)."""
    title = "Where the time goes: seconds per iteration step"
    done = [r for r in succeeded_versions(records) if r.timings]
    if not done:
        return empty_figure(title, "No timed iterations yet.")
    done, shown = _latest(done, limit)
    seen = {step for r in done for step in r.timings}
    steps = [s for s in STEP_ORDER if s in seen] + sorted(seen - set(STEP_ORDER))
    colours = dict(zip(STEP_ORDER, _STEP_COLOURS, strict=True))
    fig = go.Figure()
    for step in steps:
        fig.add_trace(
            go.Bar(
                x=[r.model_version for r in done],
                y=[r.timings.get(step, 0.0) for r in done],
                name=step,
                marker_color=colours.get(step),
                hovertemplate=f"<b>%{{x}}</b><br>{escape(step)}: %{{y:.1f}} s<extra></extra>",
            )
        )
    totals = [r.total_seconds for r in done]
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title="Model version (oldest left)", type="category")
    fig.update_yaxes(title="Seconds")
    note = (
        f"Latest: {totals[-1]:,.1f} s in total. Upload and read grow with the number of tasks; train with the "
        f"labels.{shown}"
    )
    fig = titled(fig, title, note)
    fig.update_layout(legend_traceorder="normal")
    return fig
