"""Tests for al_core.reports.chart_style: wrapped titles, empty states and user text shown as text."""

from __future__ import annotations

import plotly.graph_objects as go

from al_core.reports.chart_style import TITLE_WIDTH, class_height, empty_figure, escape, pct, titled, wrap_lines


def test_user_text_is_escaped_for_plotly() -> None:
    assert escape("<b>card</b> & <script>") == "&lt;b&gt;card&lt;/b&gt; &amp; &lt;script&gt;"


def test_long_titles_wrap_and_the_margin_makes_room() -> None:
    long = "word " * 60
    assert (
        all(len(line) <= TITLE_WIDTH for line in wrap_lines(long, TITLE_WIDTH))
        and len(wrap_lines(long, TITLE_WIDTH)) > 2
    )
    assert wrap_lines("one<br>two", 80) == ["one", "two"]
    short, wrapped = titled(go.Figure(), "Short"), titled(go.Figure(), long, note="a note")
    assert short.layout.title.text == "<b>Short</b>"
    assert wrapped.layout.margin.t > short.layout.margin.t and "a note" in wrapped.layout.title.text


def test_empty_figure_says_what_to_do() -> None:
    fig = empty_figure("Learning curve", "Run an iteration first.")
    assert not fig.data and [a.text for a in fig.layout.annotations] == ["Run an iteration first."]


def test_pct_and_class_height() -> None:
    assert pct(None) == "n/a" and pct(0.1234) == "12.3%"
    assert class_height(1) == 360 and class_height(10_000) == 2400 and 360 < class_height(50) < 2400
