"""The parameters of the models: what each one means, and the check of a value (one check per parameter).

``models.resolve_params`` merges a model's defaults with the chosen values and checks each here; a bad
value raises ConfigError in scikit-learn's form: "The 'C' parameter must be a float in (0, inf). Got 0 instead."
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from al_core.errors import ConfigError
from al_core.validation import check_float, check_int

PARAM_DOCS: Mapping[str, str] = MappingProxyType(
    {
        "C": "Inverse regularization strength; larger fits the labels more closely.",
        "alpha": "Additive smoothing; larger = smoother, less confident.",
        "class_weight": "'balanced' gives rare classes more weight; None weighs every example equally.",
        "ngram_max": "Longest word n-gram used as a feature (1 = single words, 2 = also word pairs).",
        "max_features": "Keep only the most frequent n-grams (None = keep all).",
        "encoder": "Sentence encoder: 'all-MiniLM-L6-v2' (shipped, offline) or the folder of a sentence-transformers model.",
    }
)


def _positive_float(name: str, value: Any) -> float:
    return check_float(name, value, 0, include_low=False)


def _int_in(low: int, high: float, allow_none: bool = False) -> Callable[[str, Any], int | None]:
    return lambda name, value: check_int(name, value, low, high, allow_none=allow_none)


def _encoder(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"The '{name}' parameter must be a model name or a folder. Got {value!r} instead.")
    return value


def _class_weight(name: str, value: Any) -> str | None:
    if value not in (None, "balanced"):
        raise ConfigError(f"The '{name}' parameter must be a str among {{'balanced'}} or None. Got {value!r} instead.")
    return value


_CHECKS: Mapping[str, Callable[[str, Any], Any]] = MappingProxyType(
    {
        "C": _positive_float,
        "alpha": _positive_float,
        "ngram_max": _int_in(1, 3),
        "max_features": _int_in(1, float("inf"), allow_none=True),
        "class_weight": _class_weight,
        "encoder": _encoder,
    }
)


def check_param(name: str, value: Any) -> Any:
    """``value`` as parameter ``name`` takes it (a float for ``C``, an int for ``ngram_max``, ...).

    Raises ConfigError naming the parameter, the valid range and the value; KeyError for an unknown name
    (``models.resolve_params`` refuses unknown names first, listing the valid ones).
    """
    return _CHECKS[name](name, value)
