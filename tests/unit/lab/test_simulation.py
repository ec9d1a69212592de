"""Tests for al_core.lab.simulation on a tiny synthetic 3-class dataset (fast: a few small fits each)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from al_core.errors import ConfigError
from al_core.lab import first_batch
from al_core.lab import simulation as sim
from tests.unit.synthetic import SMALL, TINY, synthetic


@pytest.fixture(scope="module")
def data() -> tuple[list[str], list[str]]:
    return synthetic()


@pytest.mark.parametrize("strategy", sim.ALL_STRATEGIES)
def test_simulate_returns_increasing_label_counts(data, strategy: str) -> None:
    texts, labels = data
    curve = sim.simulate(texts, labels, strategy=strategy, seed=0, **SMALL)
    counts = [n for n, _, _ in curve]
    assert counts == [6, 12, 18, 24, 30]
    assert all(0.0 <= acc <= 1.0 and 0.0 <= f1 <= 1.0 for _, acc, f1 in curve)


@pytest.mark.parametrize("strategy", ["random", "margin", sim.DIVERSITY])
def test_same_seed_gives_identical_numbers(data, strategy: str) -> None:
    texts, labels = data
    first = sim.simulate(texts, labels, strategy=strategy, seed=3, **SMALL)
    assert sim.simulate(texts, labels, strategy=strategy, seed=3, **SMALL) == first


def test_budget_beyond_the_training_split_stops_at_its_size(data) -> None:
    texts, labels = data  # 90 rows: 67 in the training split
    curve = sim.simulate(texts, labels, strategy="margin", budget=1000, batch=20, start=20, seed=0)
    assert [n for n, _, _ in curve] == [20, 40, 60, 67]
    assert sim.label_grid(67, 1000, 20, 20) == [20, 40, 60, 67]


def test_progress_reports_every_point(data) -> None:
    texts, labels = data
    calls: list[tuple[int, int, str]] = []
    sim.simulate(
        texts, labels, strategy="entropy", seed=0, on_progress=lambda d, t, m: calls.append((d, t, m)), **SMALL
    )
    assert [(d, t) for d, t, _ in calls] == [(i, 5) for i in range(1, 6)]
    assert "entropy, seed 0: 30 labels" in calls[-1][2]


def test_run_dataset_json_shape(data) -> None:
    texts, labels = data
    result = sim.run_dataset(texts, labels, seeds=1, **TINY)
    json.loads(json.dumps(result))  # serializable as is
    assert 0.0 <= result["full_accuracy"] <= 1.0
    assert set(result["strategies"]) == set(sim.ALL_STRATEGIES)
    for entry in result["strategies"].values():
        assert {"auc", "n95", "n99", "curve"} <= set(entry)
        assert 0.0 <= entry["auc"] <= 1.0
        assert all(n is None or isinstance(n, int) for n in (entry["n95"], entry["n99"]))
        assert [n for n, _ in entry["curve"]] == [6, 12]
        assert all(isinstance(n, int) and isinstance(acc, float) for n, acc in entry["curve"])


def test_run_dataset_averages_seeds_and_parallel_runs_agree(data) -> None:
    texts, labels = data
    serial = sim.run_dataset(texts, labels, strategy_names=["margin"], seeds=2, **TINY)
    curves = [sim.simulate(texts, labels, strategy="margin", seed=s, **TINY) for s in range(2)]
    expected = [(a[1] + b[1]) / 2 for a, b in zip(*curves, strict=True)]
    np.testing.assert_allclose([acc for _, acc in serial["strategies"]["margin"]["curve"]], expected)
    parallel = sim.run_dataset(texts, labels, strategy_names=["margin"], seeds=2, jobs=2, **TINY)
    assert parallel["strategies"] == serial["strategies"]
    assert parallel["full_accuracy"] == serial["full_accuracy"]


def test_n95_and_n99_on_a_hand_made_curve() -> None:
    curve = [(10, 0.5, 0.4), (20, 0.86, 0.8), (30, 0.895, 0.85), (40, 0.9, 0.9)]
    result = sim.summarize([0.9], {"hand": [curve]})["strategies"]["hand"]
    assert result["n95"] == 20  # 0.86 >= 0.95 * 0.9 = 0.855
    assert result["n99"] == 30  # 0.895 >= 0.99 * 0.9 = 0.891
    assert sim.labels_to_reach([[10, 0.5], [20, 0.6]], 0.7) is None
    assert sim.labels_to_reach([[10, 0.7]], 0.7) == 10  # reaching the target exactly counts


def test_area_is_the_mean_accuracy_over_the_label_range() -> None:
    assert sim.area([[0, 0.0], [10, 1.0]]) == pytest.approx(0.5)
    assert sim.area([[10, 0.5], [20, 0.5], [40, 1.0]]) == pytest.approx((10 * 0.5 + 20 * 0.75) / 30)
    assert sim.area([[10, 0.7]]) == pytest.approx(0.7)


def test_unknown_strategy_and_bad_batch_are_refused(data) -> None:
    texts, labels = data
    with pytest.raises(ConfigError, match=r"'strategy' parameter must be one of .*Got 'bald' instead"):
        sim.simulate(texts, labels, strategy="bald", **SMALL)
    with pytest.raises(ConfigError, match=r"'batch' parameter must be an int in \[1, inf\). Got 0 instead"):
        sim.simulate(texts, labels, strategy="margin", budget=30, batch=0)


def test_train_size_matches_the_split() -> None:
    for n in (8, 10, 67, 90, 2250):
        labels = [str(i % 2) for i in range(n)]
        assert sim.train_size(n) == len(sim.split([f"t{i}" for i in range(n)], labels, 0)[0])


@pytest.mark.parametrize("model", ["tfidf-logreg", "tfidf-cnb"])
def test_the_model_is_threaded_through_run_dataset(data, model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    texts, labels = data
    seen: set[str] = set()
    fit = sim.models.fit_model

    def spy(name: str, *args, **kwargs):
        seen.add(name)
        return fit(name, *args, **kwargs)

    monkeypatch.setattr(sim.models, "fit_model", spy)
    result = sim.run_dataset(texts, labels, strategy_names=["margin"], seeds=1, model=model, **TINY)
    assert seen == {model} and result["params"]["model"] == model


def test_an_unknown_model_is_refused(data) -> None:
    texts, labels = data
    with pytest.raises(ConfigError, match="nope"):
        sim.simulate(texts, labels, strategy="margin", model="nope", **SMALL)


def test_representation_keys_run_their_own_models_against_the_best_ceiling(data) -> None:
    texts, labels = data
    keys = ["tfidf/random", "minilm/margin", "margin"]
    result = sim.run_dataset(texts, labels, strategy_names=keys, seeds=1, model="tfidf-cnb", **TINY)
    assert list(result["strategies"]) == keys
    full = result["full_accuracy_by_model"]
    assert set(full) == {"tfidf-logreg", "minilm-logreg", "tfidf-cnb"}
    assert result["full_accuracy"] == max(full.values())


def test_embedding_runs_agree_across_processes(data) -> None:
    texts, labels = data
    kw = {"strategy_names": ["minilm/margin+diversity"], "seeds": 2, "first": "typical", **TINY}
    one, two = sim.run_dataset(texts, labels, jobs=1, **kw), sim.run_dataset(texts, labels, jobs=2, **kw)
    assert one["strategies"] == two["strategies"]


def test_parse_key_and_its_errors() -> None:
    assert sim.parse_key("tfidf+minilm/margin+diversity", "x") == ("tfidf+minilm-logreg", "margin+diversity")
    assert sim.parse_key("entropy", "tfidf-svm") == ("tfidf-svm", "entropy")
    with pytest.raises(ConfigError, match=r"Unknown representation 'bert' in 'bert/margin'\. Use one of"):
        sim.parse_key("bert/margin", "x")


def test_typical_first_batch_is_the_apps_cold_start(data) -> None:
    texts, labels = data
    train_x, _, train_y, _ = sim.split(texts, labels, 0)
    chosen = first_batch.typical_start(train_x, train_y, 6, 0, "minilm-logreg")
    features = sim.models.vectorize_for_diversity(train_x, model="minilm-logreg")
    expected = sim.strategies.cold_start_order(features, batch_size=6, random_state=0)[:6]
    assert chosen == [int(i) for i in expected]
    with pytest.raises(ConfigError, match=r"The 'first' parameter must be one of \['random', 'typical', 'names'\]"):
        sim.simulate(texts, labels, strategy="margin", first="best", **TINY)


def test_every_strategy_random_included_starts_from_the_same_first_batch(data, monkeypatch) -> None:
    """Like for like: every strategy of a seed starts from one batch, so the curves differ only by choice."""
    texts, labels = data
    real, batches = sim.first_batch, []

    def spy(*args, **kwargs):
        batches.append((kwargs["seed"], kwargs["first"], kwargs["model"], tuple(real(*args, **kwargs))))
        return list(batches[-1][3])

    monkeypatch.setattr(sim, "first_batch", spy)
    for first in ("typical", "random"):
        batches.clear()
        result = sim.run_dataset(
            texts, labels, strategy_names=["random", "margin", "tfidf/entropy"], seeds=2, first=first,
            model="tfidf-logreg", **TINY,
        )  # fmt: skip
        assert len(batches) == 3 * 2  # three strategies, two seeds
        for seed in (0, 1):
            assert len({b for b in batches if b[0] == seed}) == 1, "one first batch per seed, whatever the strategy"
        starts = {name: tuple(run["curve"][0]) for name, run in result["strategies"].items()}
        assert len(set(starts.values())) == 1, starts  # one model, one batch: the same first point


def test_first_batch_kinds_differ_and_refuse_unknown_kinds(data) -> None:
    texts, labels = data
    train_x, _, train_y, _ = sim.split(texts, labels, 0)
    typical = sim.first_batch(train_x, train_y, start=6, seed=0, first="typical", model="tfidf-logreg")
    random = sim.first_batch(train_x, train_y, start=6, seed=0, first="random", model="tfidf-logreg")
    assert len(typical) == len(random) == 6 and typical != random
    with pytest.raises(ConfigError, match=r"The 'first' parameter must be one of \['random', 'typical', 'names'\]"):
        sim.first_batch(train_x, train_y, start=6, seed=0, first="best", model="tfidf-logreg")


def test_key_options_name_the_first_batch_and_self_training(data) -> None:
    assert sim.key_options("minilm/margin") == {}
    assert sim.key_options("minilm/margin@names+self") == {"first": "names", "self_train": True}
    assert sim.parse_key("minilm/margin@self", "x") == ("minilm-logreg", "margin")
    with pytest.raises(ConfigError, match=r"Unknown option 'bogus' in 'margin@bogus'\. Use one or more of"):
        sim.run_dataset(*data, strategy_names=["margin@bogus"], seeds=1, **TINY)


def test_options_reach_the_first_batch_and_the_fit(data, monkeypatch: pytest.MonkeyPatch) -> None:
    texts, labels = data
    firsts, self_fits = [], []
    real_first, real_fit = sim.first_batch, sim.self_training.fit_self_trained

    def spy_first(*args, **kwargs):
        firsts.append(kwargs["first"])
        return real_first(*args, **kwargs)

    def spy_fit(*args, **kwargs):
        self_fits.append(len(args[3]))  # the unlabeled pool offered for pseudo-labels
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(sim, "first_batch", spy_first)
    monkeypatch.setattr(sim.self_training, "fit_self_trained", spy_fit)
    result = sim.run_dataset(
        texts, labels, strategy_names=["minilm/margin@names", "minilm/margin@self"], seeds=1, model="minilm-logreg",
        **TINY,
    )  # fmt: skip
    assert firsts == ["names", "typical"]
    assert len(self_fits) == 2 and self_fits[0] > self_fits[1] > 0  # every round, on what is still unlabeled
    assert set(result["strategies"]) == {"minilm/margin@names", "minilm/margin@self"}


def test_ceilings_are_reported_but_do_not_set_the_target(data, monkeypatch: pytest.MonkeyPatch) -> None:
    texts, labels = data
    ceilings = {"tfidf-logreg": 0.5, "tfidf-svm": 0.75, "tfidf-cnb": 0.99}
    monkeypatch.setattr(sim, "full_accuracy", lambda _t, _l, *, seed, model: ceilings[model] - seed / 100)
    result = sim.run_dataset(
        texts, labels, strategy_names=["random", "margin"], seeds=2, ceilings=["tfidf-cnb", "tfidf-svm"], **TINY
    )
    assert result["full_accuracy_by_model"] == pytest.approx(
        {"tfidf-logreg": 0.495, "tfidf-cnb": 0.985, "tfidf-svm": 0.745}
    )
    assert result["full_accuracy"] == pytest.approx(0.495)  # n95 is read against the models simulated, not the others
    with pytest.raises(ConfigError, match="nope"):
        sim.run_dataset(texts, labels, strategy_names=["random"], seeds=1, ceilings=["nope"], **TINY)


def test_each_seed_has_its_own_area_and_their_mean_is_the_mean_curves_area(data) -> None:
    texts, labels = data
    result = sim.run_dataset(texts, labels, strategy_names=["margin"], seeds=2, **TINY)["strategies"]["margin"]
    curves = [sim.simulate(texts, labels, strategy="margin", seed=s, **TINY) for s in range(2)]
    assert result["auc_by_seed"] == pytest.approx([sim.area([(n, a) for n, a, _ in c]) for c in curves])
    assert np.mean(result["auc_by_seed"]) == pytest.approx(result["auc"])  # the area is linear in the curve
