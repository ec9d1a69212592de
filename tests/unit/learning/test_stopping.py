"""Tests for al_core.learning.stopping: the stabilizing-predictions rule, and that reports can use it cheaply."""

from __future__ import annotations

import subprocess
import sys

import pytest

from al_core.errors import ConfigError
from al_core.learning.stopping import should_stop


def test_should_stop() -> None:
    assert should_stop([0.5, 0.99, 0.995, 1.0])
    assert not should_stop([0.99, 0.99])
    assert not should_stop([0.99, None, 0.99, 0.99])
    assert not should_stop([1.0, 1.0, 0.98])
    assert should_stop([0.9, 0.95], threshold=0.9, patience=2)
    with pytest.raises(ConfigError, match=r"The 'patience' parameter must be an int in \[1, inf\)\. Got 0"):
        should_stop([1.0], patience=0)
    with pytest.raises(ConfigError, match=r"The 'threshold' parameter must be a float in \[-1, 1\]\. Got 2"):
        should_stop([1.0], threshold=2)


def test_stopping_and_intervals_do_not_import_scikit_learn_or_scipy_stats() -> None:
    # The Progress page imports these for every render: scikit-learn and scipy.stats add ~2 s to a cold start.
    code = (
        "import sys; import al_core.learning.stopping, al_core.learning.intervals, al_core.reports.charts; "
        "print(sorted(m for m in ('sklearn', 'scipy.stats') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
