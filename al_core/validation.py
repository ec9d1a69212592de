"""Argument checks with scikit-learn style messages, in one place.

"The 'batch_size' parameter must be an int in [1, 500]. Got 0 instead." Every check raises
``ConfigError`` (a ``ValueError``) and returns the value as a plain Python number.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from al_core.errors import ConfigError

INF = math.inf


def _interval(low: float, high: float, closed_low: bool = True) -> str:
    left = "[" if closed_low and low != -INF else "("
    right = ")" if high == INF else "]"
    shown = ("-inf" if low == -INF else _num(low), "inf" if high == INF else _num(high))
    return f"{left}{shown[0]}, {shown[1]}{right}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and not isinstance(value, float) else str(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name: str, value: Any, low: float = -INF, high: float = INF, *, allow_none: bool = False) -> int | None:
    """``value`` as an int when it is one (numpy ints too, never a bool) within ``[low, high]``.

    Raises:
        ConfigError: "The '<name>' parameter must be an int in [low, high]. Got <value> instead."
    """
    if value is None and allow_none:
        return None
    if not _is_int(value) or not low <= value <= high:
        suffix = " or None" if allow_none else ""
        raise ConfigError(
            f"The '{name}' parameter must be an int in {_interval(low, high)}{suffix}. Got {value!r} instead."
        )
    return int(value)


def check_float(name: str, value: Any, low: float = -INF, high: float = INF, *, include_low: bool = True) -> float:
    """``value`` as a float when it is a real number (never a bool) within the interval.

    ``include_low=False`` excludes ``low`` itself: ``check_float("C", c, 0)`` accepts 0 (use it for
    "in [0, inf)"), ``check_float("C", c, 0, include_low=False)`` does not ("in (0, inf)").

    Raises:
        ConfigError: "The '<name>' parameter must be a float in (low, high]. Got <value> instead."
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)
    if not ok or not (low <= value if include_low else low < value) or not value <= high or value == INF:
        raise ConfigError(
            f"The '{name}' parameter must be a float in {_interval(low, high, include_low)}. Got {value!r} instead."
        )
    return float(value)
