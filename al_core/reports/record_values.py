"""An iteration record's stored numbers, read safely: missing, None, NaN, booleans and text are None.

The charts and the summary read records written by every version of the engine, so nothing here assumes a
key is present or a value is a number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from al_core.store.history import IterationRecord


def succeeded_versions(records: Sequence[IterationRecord]) -> list[IterationRecord]:
    """The succeeded iterations, oldest first (the only ones the charts plot)."""
    return sorted((r for r in records if r.status == "succeeded"), key=lambda r: r.number)


def as_number(value: Any) -> float | None:
    """``value`` as a finite float, or None (None, booleans, NaN, infinity and text are not numbers)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def stored(record: IterationRecord, group: str, key: str) -> Any:
    """``record.<group>[key]`` (group: metrics, uncertainty, counts...), or None when missing."""
    values = getattr(record, group) or {}
    return values.get(key) if isinstance(values, Mapping) else None


def stored_number(record: IterationRecord, group: str, key: str) -> float | None:
    """``stored(...)`` as a finite float, or None."""
    return as_number(stored(record, group, key))


def as_count(value: Any) -> int:
    """``value`` as an int count; 0 when it is not a number."""
    number = as_number(value)
    return int(number) if number is not None else 0
