"""What of an iteration is testable without a server: names, settings, defaults, the reads of earlier versions."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.__main__ import _parser
from al_core.context import IterationSettings, default_of
from al_core.errors import ConfigError
from al_core.iteration import Earlier, _before, _earlier, version_name
from al_core.learning import models, strategies
from al_core.learning.scoring import Before
from al_core.store import versions
from al_core.store.history import History


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path))
    return tmp_path


def test_version_names_sort_in_order_and_say_the_labels() -> None:
    assert version_name(7, 350) == "al-0007-n350"
    assert sorted([version_name(10, 5), version_name(9, 900)]) == ["al-0009-n900", "al-0010-n5"]


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
    assert default_of("model") == models.default_model()
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


def _succeed(history: History, project_id: int, version: str, kappa: float | None) -> None:
    record = history.start_iteration(project_id, None, {}, "manual")
    history.finish_iteration(record.id, status="succeeded", model_version=version, uncertainty={"kappa": kappa})


def test_earlier_reads_succeeded_versions_and_kappas_oldest_first(data_dir) -> None:
    history = History(f"sqlite:///{data_dir / 'history.sqlite'}")
    _succeed(history, 1, "al-0001-n0", None)
    failed = history.start_iteration(1, None, {}, "manual")
    history.finish_iteration(failed.id, status="failed", error="boom")
    _succeed(history, 1, "al-0003-n40", 0.7)
    _succeed(history, 2, "al-0001-n9", 0.1)  # another project
    earlier = _earlier(history, 1)
    assert earlier.versions == ("al-0001-n0", "al-0003-n40") and earlier.kappas == (None, 0.7)


def test_before_takes_the_latest_version_that_scored_a_pool(data_dir) -> None:
    def save(version: str, predicted: tuple[str, ...]) -> None:
        pool = versions.PoolPredictions(np.array([5, 6]), predicted, np.array([1, 2]))
        versions.save_pool_predictions(3, version, pool)

    save("al-0002-n10", ("a", "b"))
    save("al-0003-n20", ("b", "b"))
    # al-0004 was a cold start (no pool file): the comparison is with al-0003.
    before = _before(3, Earlier(("al-0001-n0", "al-0002-n10", "al-0003-n20", "al-0004-n0"), (None, None, 0.5, None)))
    assert before.predicted == {5: "b", 6: "b"} and before.labeled_ids == frozenset({1, 2})
    assert before.kappas == (None, None, 0.5, None)
    assert _before(3, Earlier(("al-0001-n0",), (None,))) == Before(kappas=(None,))
