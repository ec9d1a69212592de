import numpy as np
import pytest

from al_core.errors import ConfigError
from al_core.validation import check_float, check_int


def test_check_int_returns_a_plain_int() -> None:
    assert check_int("batch_size", 3, 1, 500) == 3
    value = check_int("batch_size", np.int64(7), 1)
    assert value == 7 and type(value) is int
    assert check_int("max_features", None, 1, allow_none=True) is None


@pytest.mark.parametrize(
    ("value", "low", "high", "message"),
    [
        (0, 1, 500, r"The 'batch_size' parameter must be an int in \[1, 500\]\. Got 0 instead\."),
        (0, 1, np.inf, r"The 'batch_size' parameter must be an int in \[1, inf\)\. Got 0 instead\."),
        (True, 1, 500, r"The 'batch_size' parameter must be an int in \[1, 500\]\. Got True instead\."),
        (2.0, 1, 500, r"The 'batch_size' parameter must be an int in \[1, 500\]\. Got 2\.0 instead\."),
        ("5", 1, 500, r"The 'batch_size' parameter must be an int in \[1, 500\]\. Got '5' instead\."),
        (501, 1, 500, r"Got 501 instead\."),
        (None, 1, 500, r"Got None instead\."),
    ],
)
def test_check_int_messages(value, low, high, message) -> None:
    with pytest.raises(ConfigError, match=message):
        check_int("batch_size", value, low, high)


def test_check_int_says_when_none_is_allowed() -> None:
    with pytest.raises(ConfigError, match=r"must be an int in \[1, inf\) or None\. Got 0 instead\."):
        check_int("max_features", 0, 1, allow_none=True)


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        check_int("n", -1, 0)


def test_check_float() -> None:
    assert check_float("C", 2, 0, include_low=False) == 2.0
    assert check_float("threshold", -1, -1, 1) == -1.0
    with pytest.raises(ConfigError, match=r"The 'C' parameter must be a float in \(0, inf\)\. Got 0 instead\."):
        check_float("C", 0, 0, include_low=False)
    with pytest.raises(ConfigError, match=r"The 'C' parameter must be a float in \(0, inf\)\. Got inf instead\."):
        check_float("C", float("inf"), 0, include_low=False)
    with pytest.raises(ConfigError, match=r"The 'threshold' parameter must be a float in \[-1, 1\]\. Got 2 instead\."):
        check_float("threshold", 2, -1, 1)
    for bad in (True, "0.5", float("nan"), None):
        with pytest.raises(ConfigError, match="The 'threshold' parameter must be a float in"):
            check_float("threshold", bad, -1, 1)
