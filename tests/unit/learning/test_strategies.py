"""Tests for al_core.learning.strategies: golden tables, a contract run over every strategy, diversity orders."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from al_core.errors import ConfigError
from al_core.learning.strategies import (
    DEFAULT_STRATEGY,
    STRATEGIES,
    cold_start_order,
    diverse_order,
    entropy,
    informativeness,
    least_confidence,
    margin,
    normalized_entropy,
    order_to_scores,
    top_probability,
)


def ranking(info: np.ndarray) -> list[int]:
    return np.argsort(-info, kind="stable").tolist()


# --- golden tables -------------------------------------------------------------------------------


def test_margin_golden() -> None:
    proba = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4]])
    np.testing.assert_allclose(margin(proba), [1.0, 0.2, 0.8])
    assert ranking(margin(proba)) == [0, 2, 1]


def test_least_confidence_is_normalized_by_number_of_classes() -> None:
    proba = np.array([[1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0], [0.5, 0.3, 0.2]])
    np.testing.assert_allclose(least_confidence(proba), [1.0, 0.0, 0.75])


def test_entropy_golden() -> None:
    proba = np.array([[0.5, 0.5], [1.0, 0.0], [0.9, 0.1]])
    expected = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1)) / math.log(2)
    np.testing.assert_allclose(entropy(proba), [1.0, 0.0, expected])
    np.testing.assert_allclose(normalized_entropy(proba), entropy(proba))


def test_margin_and_least_confidence_disagree_on_a_near_tie() -> None:
    # Row 0 nearly ties its two best classes; row 1 has a lower top probability.
    proba = np.array([[0.5, 0.49, 0.01], [0.4, 0.3, 0.3]])
    assert ranking(margin(proba)) == [0, 1]
    assert ranking(least_confidence(proba)) == [1, 0]


def test_multi_label_averages_binary_uncertainty_over_labels() -> None:
    proba = np.array([[0.5, 1.0], [0.9, 0.1]])
    np.testing.assert_allclose(margin(proba, multi_label=True), [0.5, 0.2])
    np.testing.assert_allclose(least_confidence(proba, multi_label=True), [0.5, 0.2])
    np.testing.assert_allclose(entropy(proba, multi_label=True)[0], 0.5)


def test_ties_keep_task_order() -> None:
    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.5, 0.5], [0.9, 0.1]])
    assert ranking(informativeness("margin", proba)) == [1, 2, 0, 3]


def test_top_probability() -> None:
    np.testing.assert_allclose(top_probability(np.array([[0.2, 0.8], [0.6, 0.4]])), [0.8, 0.6])


# --- contract: every strategy ----------------------------------------------------------------------


def random_proba(n: int, k: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(k), size=n)


@pytest.mark.parametrize("name", STRATEGIES)
@pytest.mark.parametrize("multi_label", [False, True])
def test_strategy_contract(name: str, multi_label: bool) -> None:
    proba = random_proba(50, 4, seed=1)
    if multi_label:
        proba = np.random.default_rng(2).random((50, 4))
    info = informativeness(name, proba, multi_label=multi_label, random_state=7)
    assert info.shape == (50,)
    assert info.dtype.kind == "f"
    assert np.all((info >= 0.0) & (info <= 1.0))
    again = informativeness(name, proba, multi_label=multi_label, random_state=7)
    np.testing.assert_array_equal(info, again)
    assert sorted(ranking(info)) == list(range(50))


@pytest.mark.parametrize("name", STRATEGIES)
def test_strategy_handles_empty_pool_and_float32(name: str) -> None:
    assert informativeness(name, np.zeros((0, 3))).shape == (0,)
    info = informativeness(name, random_proba(5, 3, seed=0).astype(np.float32), random_state=0)
    assert info.shape == (5,)


def test_random_strategy_depends_on_random_state() -> None:
    proba = random_proba(20, 3, seed=0)
    first = informativeness("random", proba, random_state=1)
    assert not np.array_equal(first, informativeness("random", proba, random_state=2))


def test_default_strategy_is_known() -> None:
    assert DEFAULT_STRATEGY in STRATEGIES
    assert STRATEGIES == ("random", "least_confidence", "margin", "entropy")


def test_unknown_strategy_message() -> None:
    expected = r"The 'strategy' parameter must be one of \['random', 'least_confidence', 'margin', 'entropy'\]\. "
    with pytest.raises(ConfigError, match=expected + r"Got 'foo' instead\."):
        informativeness("foo", random_proba(3, 2, seed=0))


def test_malformed_proba_messages() -> None:
    with pytest.raises(ConfigError, match=r"must be a 2-D array .* Got shape \(3,\)"):
        margin(np.array([0.2, 0.3, 0.5]))
    with pytest.raises(ConfigError, match=r"row 1 sums to 1\.5000"):
        margin(np.array([[0.5, 0.5], [0.9, 0.6]]))
    with pytest.raises(ConfigError, match=r"probabilities in \[0, 1\]"):
        entropy(np.array([[np.nan, 1.0]]))


# --- batch diversity and cold start ------------------------------------------------------------------


def blobs(sizes: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points around centers at distinct angles (rows are L2-normalized downstream, so angle matters)."""
    rng = np.random.default_rng(seed)
    points, members = [], []
    for blob, size in enumerate(sizes):
        angle = 2 * np.pi * blob / len(sizes)
        center = 10 * np.array([np.cos(angle), np.sin(angle)])
        points.append(center + rng.normal(scale=0.3, size=(size, 2)))
        members += [blob] * size
    return np.vstack(points), np.array(members)


def test_diverse_order_covers_distinct_clusters_first() -> None:
    features, blob = blobs([25, 25, 25, 25])
    # Blob 0 is the most informative as a whole: plain ranking would fill the batch from it alone.
    info = np.where(blob == 0, 0.9, 0.5) + np.random.default_rng(1).uniform(0, 0.05, size=blob.size)
    assert set(blob[ranking(info)[:4]]) == {0}
    order = diverse_order(info, features, batch_size=4, random_state=0)
    assert sorted(order.tolist()) == list(range(100))
    assert order[0] == ranking(info)[0]
    assert set(blob[order[:4]]) == {0, 1, 2, 3}
    np.testing.assert_array_equal(order, diverse_order(info, features, batch_size=4, random_state=0))


def test_diverse_order_asks_a_features_function_for_the_candidates_only() -> None:
    """At 1,000,000 tasks the pool's features are ~0.5-1.5 GB: only the clustered candidates' are computed."""
    features, _ = blobs([25, 25, 25, 25])
    info = np.random.default_rng(2).random(100)
    asked: list[np.ndarray] = []

    def rows_features(rows: np.ndarray) -> np.ndarray:
        asked.append(np.asarray(rows))
        return features[rows]

    order = diverse_order(info, rows_features, batch_size=4, candidates_factor=5, random_state=0)
    np.testing.assert_array_equal(
        order, diverse_order(info, features, batch_size=4, candidates_factor=5, random_state=0)
    )
    assert len(asked) == 1 and sorted(asked[0].tolist()) == sorted(ranking(info)[:20])
    with pytest.raises(ConfigError, match=r"one row per task \(20 rows\)"):
        diverse_order(info, lambda rows: features[:3], batch_size=4, candidates_factor=5)


def test_diverse_order_keeps_non_candidates_by_informativeness() -> None:
    features, _ = blobs([30, 30])
    info = np.random.default_rng(3).random(60)
    order = diverse_order(info, features, batch_size=2, candidates_factor=5, random_state=0)
    by_info = ranking(info)
    assert set(order[:10].tolist()) == set(by_info[:10])
    assert order[10:].tolist() == by_info[10:]


def test_diverse_order_with_batch_of_one_is_plain_ranking() -> None:
    features, _ = blobs([10, 10])
    info = np.random.default_rng(0).random(20)
    assert diverse_order(info, features, batch_size=1).tolist() == ranking(info)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7])
def test_diverse_order_on_tiny_sparse_input(n: int) -> None:
    features = sp.random(n, 500, density=0.05, format="csr", random_state=0)
    order = diverse_order(np.linspace(0, 1, n), features, batch_size=5, random_state=0)
    assert sorted(order.tolist()) == list(range(n))


def test_diverse_order_with_duplicate_rows_and_many_features() -> None:
    features = sp.csr_matrix(np.tile(np.eye(150)[:3], (10, 1)))  # 30 rows, 3 distinct
    order = diverse_order(np.zeros(30), features, batch_size=10, random_state=0)
    assert sorted(order.tolist()) == list(range(30))


def test_diverse_order_takes_read_only_float32_vectors_as_they_are() -> None:
    # Sentence vectors arrive as a read-only float32 array shared with the encoder's memo: only the
    # candidates' rows are converted, and the order is the one float64 input gives.
    features, blob = blobs([25, 25, 25, 25])
    info = np.where(blob == 0, 0.9, 0.5) + np.random.default_rng(1).uniform(0, 0.05, size=blob.size)
    vectors = features.astype(np.float32)
    vectors.flags.writeable = False
    expected = diverse_order(info, vectors.astype(np.float64), batch_size=4, random_state=0)
    np.testing.assert_array_equal(diverse_order(info, vectors, batch_size=4, random_state=0), expected)


def test_diverse_order_input_errors() -> None:
    with pytest.raises(ConfigError, match=r"The 'batch_size' parameter must be an int in \[1, inf\)\. Got 0"):
        diverse_order(np.zeros(3), np.zeros((3, 2)), batch_size=0)
    with pytest.raises(ConfigError, match=r"one row per task \(3 rows\)\. Got shape \(2, 2\)"):
        diverse_order(np.zeros(3), np.zeros((2, 2)), batch_size=2)
    with pytest.raises(ConfigError, match=r"'features' must be numeric\. Got dtype <U1"):
        diverse_order(np.zeros(3), np.array([["a"], ["b"], ["c"]]), batch_size=2)


def test_cold_start_picks_one_typical_task_per_cluster_biggest_first() -> None:
    features, blob = blobs([40, 30, 20, 10])
    order = cold_start_order(features, batch_size=4, random_state=0)
    assert sorted(order.tolist()) == list(range(100))
    assert blob[order[:4]].tolist() == [0, 1, 2, 3]
    for index in order[:4]:  # the chosen task is the most typical of its blob (by angle)
        members = np.flatnonzero(blob == blob[index])
        unit = features[members] / np.linalg.norm(features[members], axis=1, keepdims=True)
        mean = unit.mean(axis=0)
        assert index == members[np.argmin(((unit - mean) ** 2).sum(axis=1))]
    np.testing.assert_array_equal(order, cold_start_order(features, batch_size=4, random_state=0))
    assert not np.array_equal(order, cold_start_order(features, batch_size=4, random_state=1))


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_cold_start_on_tiny_sparse_input(n: int) -> None:
    features = sp.random(n, 300, density=0.1, format="csr", random_state=0)
    order = cold_start_order(features, batch_size=3, random_state=0)
    assert sorted(order.tolist()) == list(range(n))


def test_order_to_scores() -> None:
    np.testing.assert_allclose(order_to_scores(np.array([2, 0, 1]), 3), [1 / 3, 2 / 3, 0.0])
    assert order_to_scores(np.array([], dtype=int), 0).shape == (0,)
    with pytest.raises(ConfigError, match=r"permutation of range\(3\)"):
        order_to_scores(np.array([0, 0, 1]), 3)


@pytest.mark.parametrize("multi_label", [False, True])
def test_measures_run_in_chunks_of_rows_with_the_same_values(
    monkeypatch: pytest.MonkeyPatch, multi_label: bool
) -> None:
    """A 1,000,000-task pool's probabilities are measured a chunk of rows at a time (bounded temporaries)."""
    from al_core.learning import strategies

    rng = np.random.default_rng(0)
    proba = rng.random((1000, 4)) if multi_label else rng.dirichlet(np.ones(4), size=1000)
    whole = {fn: fn(proba, multi_label=multi_label) for fn in (margin, entropy, least_confidence)}
    monkeypatch.setattr(strategies, "CHUNK_ROWS", 300)
    for fn, expected in whole.items():
        np.testing.assert_allclose(fn(proba, multi_label=multi_label), expected, rtol=0, atol=1e-15)
    bad = proba.copy()
    bad[700] = 0.9 if not multi_label else 1.5
    with pytest.raises(ConfigError, match=r"row 700 sums to" if not multi_label else r"in \[0, 1\]"):
        margin(bad, multi_label=multi_label)
