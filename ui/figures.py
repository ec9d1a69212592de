"""Figures built once per change of the history and shared by every session (``st.cache_resource``).

Building a Plotly figure validates every property (about 0.1-0.5 s each with hundreds of versions); the
records behind a figure only change when an iteration starts, steps or finishes. ``Cached(module, key)``
stands in for a figure module (``al_core.reports.charts`` ...): its functions answer from the cache when
called again with the same records under the same ``key`` (the history's ``last_change``). The figures are
never mutated: ``st.plotly_chart`` only serializes them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import ModuleType
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from al_core.store.records import IterationRecord


@st.cache_resource(max_entries=256, show_spinner=False)
def _figure(name: str, key: Hashable, _build: Callable[[], go.Figure]) -> go.Figure:
    return _build()


def _identity(value: Any) -> Hashable | None:
    """What identifies an argument under one history key; None when it cannot be told (then no caching)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, IterationRecord):
        return ("record", value.id)
    if isinstance(value, list | tuple) and all(isinstance(v, IterationRecord) for v in value):
        return ("records", tuple(v.id for v in value))
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return ("texts", tuple(value))
    return None


class Cached:
    """A figure module whose functions returning figures are cached under ``key`` (other attributes pass through)."""

    def __init__(self, module: ModuleType, key: str) -> None:
        self._module, self._key = module, key

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._module, name)
        if not callable(found) or isinstance(found, type):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            values = [*args, *(kwargs[k] for k in sorted(kwargs))]
            ids = [_identity(v) for v in values]
            if any(i is None and v is not None for i, v in zip(ids, values, strict=True)):
                return found(*args, **kwargs)  # an argument it cannot tell apart: built every time
            ids += sorted(kwargs)
            qualified = f"{self._module.__name__}.{name}"
            return _figure(qualified, (self._key, tuple(ids)), lambda: found(*args, **kwargs))

        return call
