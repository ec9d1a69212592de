"""The models' parameters: one check each, messages in scikit-learn's form, documentation for every one."""

from __future__ import annotations

import pytest

from al_core.errors import ConfigError
from al_core.learning.model_params import PARAM_DOCS, check_param
from al_core.learning.models import MODELS


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("C", 3, 3.0),
        ("C", 0.5, 0.5),
        ("alpha", 1e-9, 1e-9),
        ("ngram_max", 1, 1),
        ("ngram_max", 3, 3),
        ("max_features", None, None),
        ("max_features", 10**9, 10**9),
        ("class_weight", None, None),
        ("class_weight", "balanced", "balanced"),
        ("encoder", "all-MiniLM-L6-v2", "all-MiniLM-L6-v2"),
    ],
)
def test_valid_values_are_taken_as_the_model_takes_them(name, value, expected):
    got = check_param(name, value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("C", 0, r"^The 'C' parameter must be a float in \(0, inf\)\. Got 0 instead\.$"),
        ("C", float("inf"), r"^The 'C' parameter must be a float in \(0, inf\)\. Got inf instead\.$"),
        ("C", True, r"^The 'C' parameter must be a float in \(0, inf\)\. Got True instead\.$"),
        ("alpha", "1", r"^The 'alpha' parameter must be a float in \(0, inf\)\. Got '1' instead\.$"),
        ("ngram_max", 0, r"^The 'ngram_max' parameter must be an int in \[1, 3\]\. Got 0 instead\.$"),
        ("ngram_max", 2.0, r"^The 'ngram_max' parameter must be an int in \[1, 3\]\. Got 2\.0 instead\.$"),
        ("ngram_max", None, r"^The 'ngram_max' parameter must be an int in \[1, 3\]\. Got None instead\.$"),
        (
            "max_features",
            0,
            r"^The 'max_features' parameter must be an int in \[1, inf\) or None\. Got 0 instead\.$",
        ),
        (
            "class_weight",
            "auto",
            r"^The 'class_weight' parameter must be a str among \{'balanced'\} or None\. Got 'auto' instead\.$",
        ),
        ("encoder", " ", r"^The 'encoder' parameter must be a model name or a folder\. Got ' ' instead\.$"),
    ],
)
def test_bad_values_name_the_parameter_the_range_and_the_value(name, value, message):
    with pytest.raises(ConfigError, match=message):
        check_param(name, value)


def test_every_parameter_a_model_takes_is_documented_and_checked():
    used = {key for spec in MODELS.values() for key in spec.defaults}
    assert used == set(PARAM_DOCS) == {"C", "alpha", "class_weight", "ngram_max", "max_features", "encoder"}
    for spec in MODELS.values():
        for key, default in spec.defaults.items():
            assert check_param(key, default) == default
