"""When to stop labeling: the stabilizing-predictions rule (pure Python, cheap to import for reports).

Source: Bloodgood & Vijay-Shanker (2009), "A method for stopping active learning based on stabilizing
predictions and the need for user-adjustable stopping", CoNLL.
"""

from __future__ import annotations

from collections.abc import Sequence

from al_core.validation import check_float, check_int

# The stabilizing-predictions stopping rule: kappa between successive versions at or above STOP_KAPPA
# for STOP_PATIENCE versions in a row (Bloodgood & Vijay-Shanker, 2009).
STOP_KAPPA = 0.99
STOP_PATIENCE = 3


def should_stop(kappas: Sequence[float | None], threshold: float = STOP_KAPPA, patience: int = STOP_PATIENCE) -> bool:
    """Stabilizing-predictions stopping rule (Bloodgood & Vijay-Shanker, 2009).

    True when the last ``patience`` kappas (between successive model versions) are all known and
    >= ``threshold``. Raises ConfigError for ``patience`` < 1 or ``threshold`` outside [-1, 1].
    """
    check_int("patience", patience, 1)
    check_float("threshold", threshold, -1, 1)
    recent = list(kappas)[-patience:]
    return len(recent) == patience and all(k is not None and k >= threshold for k in recent)
