"""Tests of al_core.context: the iteration settings (JSON round trip, defaults in one place, checks)."""

from __future__ import annotations

import pytest

from al_core.__main__ import _parser
from al_core.context import IterationSettings, default_of
from al_core.errors import ConfigError
from al_core.learning import models, strategies


def test_settings_round_trip_through_json() -> None:
    chosen = IterationSettings(model="tfidf-logreg", strategy="entropy", upload_top=0, eval_size=40, trigger="cli")
    stored = chosen.to_json()
    assert stored["strategy"] == "entropy" and stored["upload_top"] == 0 and stored["eval_size"] == 40
    assert IterationSettings.from_json(stored) == chosen
    again = IterationSettings.from_json({**stored, "unknown": 1, "trigger": "cli"}, trigger="webhook")
    assert again.trigger == "webhook" and again.strategy == "entropy"
    assert IterationSettings.from_json(None, model="tfidf-logreg") == IterationSettings(model="tfidf-logreg")


def test_scoring_gets_the_typed_part_of_the_settings() -> None:
    s = IterationSettings(model="tfidf-logreg", strategy="entropy", diversity=False, random_state=3)
    assert (s.scoring.model, s.scoring.strategy, s.scoring.diversity, s.scoring.random_state) == (
        "tfidf-logreg",
        "entropy",
        False,
        3,
    )


def test_defaults_live_in_the_settings_record() -> None:
    assert default_of("strategy") == strategies.DEFAULT_STRATEGY
    assert default_of("model") == models.env_model(), "no model chosen: None (by classes), or AL_MODEL"
    assert default_of("upload_top") == IterationSettings().upload_top == 1000
    args = _parser().parse_args(["iterate", "--project", "1"])
    assert (args.strategy, args.upload_top, args.diversity, args.eval_size, args.keep_versions) == (
        default_of("strategy"),
        default_of("upload_top"),
        default_of("diversity"),
        default_of("eval_size"),
        default_of("keep_versions"),
    )
    assert _parser().parse_args(["prune", "--project", "1"]).keep == default_of("keep_versions")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"upload_top": -1}, r"The 'upload_top' parameter must be an int in \[0, inf\)\. Got -1 instead\."),
        ({"eval_every": 0}, r"The 'eval_every' parameter must be an int in \[1, inf\)\. Got 0 instead\."),
        ({"eval_size": -2}, r"The 'eval_size' parameter must be an int in \[0, inf\) or None\. Got -2 instead\."),
        ({"keep_versions": 0}, r"The 'keep_versions' parameter must be an int in \[1, inf\)\. Got 0 instead\."),
        ({"upload_top": True}, r"The 'upload_top' parameter must be an int in \[0, inf\)\. Got True instead\."),
    ],
)
def test_bad_settings_are_refused(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        IterationSettings(model="tfidf-logreg", **kwargs)


def test_the_dask_scheduler_is_an_address_or_empty_and_is_stored_with_the_settings():
    assert IterationSettings().dask_scheduler == "", "empty: AL_DASK_SCHEDULER, else this process"
    chosen = IterationSettings(model="tfidf-logreg", dask_scheduler=" tcp://10.0.0.5:8786 ")
    assert chosen.dask_scheduler == "tcp://10.0.0.5:8786"
    assert IterationSettings.from_json(chosen.to_json()).dask_scheduler == "tcp://10.0.0.5:8786"
    with pytest.raises(ConfigError, match=r"^The Dask scheduler must be an address like tcp://"):
        IterationSettings(model="tfidf-logreg", dask_scheduler="10.0.0.5:8786")
