"""Scoring is pure: hand-made texts and labels in, order, predictions and metrics out (no server, no files)."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.labelstudio.label_config import LabelSpec
from al_core.labelstudio.labels import LabeledSet
from al_core.learning import scoring, strategies
from al_core.learning.scoring import Before, PoolData, ScoringSettings

SPEC = LabelSpec("text", "Text", "text", "animal", ("cat", "dog"))
TRAINING = LabeledSet(
    task_ids=(1, 2, 3, 4, 5, 6),
    texts=("the cat purrs", "a cat meows", "my cat sleeps", "the dog barks", "a dog runs", "my dog fetches"),
    labels=("cat", "cat", "cat", "dog", "dog", "dog"),
)
EVAL = LabeledSet(task_ids=(11, 12), texts=("cat purrs and meows", "dog barks and runs"), labels=("cat", "dog"))
POOL_IDS = np.array([101, 102, 103], dtype=np.int64)
POOL = ["the cat meows", "the dog barks", "cat dog"]  # the last one is the model's hardest call
SETTINGS = ScoringSettings("tfidf-logreg", {}, "margin", False, 0)


def _data(training: LabeledSet = TRAINING, pool: list[str] = POOL, pool_ids: np.ndarray = POOL_IDS) -> PoolData:
    return PoolData(SPEC, training, EVAL, pool_ids, pool, (11, 12))


def test_train_and_score_orders_the_pool_most_uncertain_first() -> None:
    scored = scoring.train_and_score(_data(), SETTINGS, Before())
    assert scored.predicted[:2] == ("cat", "dog")
    assert scored.order[0] == 2 and sorted(scored.order.tolist()) == [0, 1, 2]
    assert scored.n_scored == 3 and scored.model is not None
    assert scored.metrics["accuracy"] == 1.0 and scored.metrics["n_eval"] == 2
    assert scored.metrics["train_class_counts"] == {"cat": 3, "dog": 3}
    assert 0.0 <= scored.metrics["cv_accuracy"] <= 1.0
    assert scored.metrics["live_agreement"] is None and scored.metrics["n_live"] == 0
    assert scored.uncertainty["kappa"] is None and scored.uncertainty["consider_stopping"] is False
    assert sum(scored.uncertainty["predicted_class_counts"].values()) == 3
    assert scored.message == (
        "Trained tfidf-logreg on 6 labels: 100.0% accuracy on 2 evaluation-set labels "
        "(95% interval 34.2%-100.0%; about 33 more labels for +-5 points)."
    )
    assert scored.metrics["accuracy_ci"] == pytest.approx([0.3424, 1.0], abs=1e-4)  # Wilson, 2 of 2 right
    assert scored.metrics["macro_f1_ci"] == [1.0, 1.0]
    assert scored.metrics["eval_outcomes"] == {11: ["cat", True, 0.87, "cat"], 12: ["dog", True, 0.87, "dog"]}


def test_the_previous_version_gives_stability_live_agreement_and_the_stopping_signal() -> None:
    first = scoring.train_and_score(_data(), SETTINGS, Before())
    previous = dict(zip(POOL_IDS.tolist(), first.headlines, strict=True))
    # The previous version had predicted tasks 1 and 4 (labeled since): it was right on 1, wrong on 4.
    before = Before(
        predicted={**previous, 1: "cat", 4: "cat"},
        labeled_ids=frozenset({2, 3, 5, 6, 11, 12}),
        kappas=(0.995, 0.999),
    )
    again = scoring.train_and_score(_data(), SETTINGS, before)
    assert again.uncertainty["changed_share"] == 0.0 and again.uncertainty["kappa"] == 1.0
    assert again.uncertainty["consider_stopping"] is True
    assert (again.metrics["live_agreement"], again.metrics["n_live"]) == (0.5, 2)
    not_yet = scoring.train_and_score(_data(), SETTINGS, Before(previous, frozenset(), (0.5, 0.999)))
    assert not_yet.uncertainty["consider_stopping"] is False


def test_an_empty_pool_is_scored_as_nothing() -> None:
    scored = scoring.train_and_score(_data(pool=[], pool_ids=np.zeros(0, np.int64)), SETTINGS, Before())
    assert scored.n_scored == 0 and scored.predicted == () and scored.order.size == 0


def test_steps_are_reported_in_order() -> None:
    seen: list[str] = []

    def step(name: str, _message: str):
        seen.append(name)
        return scoring.no_step(name, _message)

    scoring.train_and_score(_data(), SETTINGS, Before(), step)
    assert seen == ["train", "evaluate", "score", "strategy"]


def test_cold_start_orders_a_diverse_first_batch_without_a_model() -> None:
    one_class = LabeledSet(task_ids=(1,), texts=("the cat purrs",), labels=("cat",))
    pool = [f"text number {i} about {'cats' if i % 2 else 'dogs'}" for i in range(strategies.COLD_START_BATCH + 10)]
    data = _data(training=one_class, pool=pool, pool_ids=np.arange(len(pool), dtype=np.int64))
    scored = scoring.cold_start(data, SETTINGS)
    assert scored.model is None and scored.n_scored == 0 and scored.metrics == {} and scored.uncertainty == {}
    assert scored.predicted == ("",) * len(pool)
    assert sorted(scored.order.tolist()) == list(range(len(pool)))  # the batch first, then every other task
    assert "seen: cat" in scored.message and scored.message.startswith("Cold start")
    assert scoring.cold_start(data, SETTINGS).order.tolist() == scored.order.tolist()  # random_state fixes it


def test_cold_start_of_an_empty_pool() -> None:
    scored = scoring.cold_start(_data(training=LabeledSet((), (), ()), pool=[], pool_ids=np.zeros(0)), SETTINGS)
    assert scored.order.size == 0 and "seen: none" in scored.message


@pytest.mark.parametrize(("label", "shown"), [("cat", "cat"), (("cat", "dog"), "cat|dog")])
def test_headline(label, shown) -> None:
    assert scoring.headline(label) == shown
