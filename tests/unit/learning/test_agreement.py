"""Agreement between annotators and vote aggregation: hand-computed kappas, leave-one-out consensus, disputed
tasks, and Dawid-Skene outvoting two unreliable annotators with a reliable one."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.learning import agreement as ag


def test_fleiss_kappa_by_hand():
    # 3 tasks x 3 votes: P_i = 1, 1/3, 1 -> P = 7/9; p(a) = 5/9, p(b) = 4/9 -> P_e = 41/81 -> kappa = 22/40
    tasks = [["a", "a", "a"], ["a", "a", "b"], ["b", "b", "b"], ["b"]]  # the single vote is ignored
    assert ag.fleiss_kappa(tasks) == pytest.approx(0.55)
    assert ag.fleiss_kappa([["a", "a", "a"], ["a", "a", "b"], ["b", "b", "a"]]) == pytest.approx(0.0)  # P = P_e
    assert ag.fleiss_kappa([["a", "a"], ["a", "a"]]) == 1.0 and ag.fleiss_kappa([["a"]]) is None
    assert ag.fleiss_kappa([["a", "b"], ["b", "a"]]) == pytest.approx(-1.0)


def test_cohen_kappa_by_hand():
    # observed 3/4; expected (2*3 + 2*1) / 16 = 1/2 -> kappa 1/2
    assert ag.cohen_kappa(["a", "a", "b", "b"], ["a", "a", "a", "b"]) == pytest.approx(0.5)
    assert ag.cohen_kappa(["a", "a"], ["a", "a"]) == 1.0


def test_agreement_with_the_others_majority_pairs_and_disputed_tasks():
    votes = [
        (1, "ann", "x"), (1, "bob", "x"), (1, "cy", "y"),
        (2, "ann", "y"), (2, "bob", "y"), (2, "cy", "y"),
        (3, "ann", "x"), (3, "bob", "x"), (3, "cy", "x"),
        (4, "ann", "x"), (4, "bob", "y"),  # others tied for nobody: each has one other voter
        (5, "ann", "x"),
    ]  # fmt: skip
    found = ag.agreement(votes)
    assert (found.n_tasks, found.n_single) == (4, 1)
    got = {a.annotator: (a.n_votes, a.n_compared, a.agreement) for a in found.annotators}
    # ann: task 1 others {x, y} tied -> skipped; 2 y=y; 3 x=x; 4 other bob y != x -> 2/3
    assert got["ann"] == (5, 3, pytest.approx(2 / 3))
    assert got["cy"] == (3, 3, pytest.approx(2 / 3))  # task 1: others x,x vs y
    pairs = {(p.a, p.b): (p.n, p.kappa) for p in found.pairs}
    assert pairs[("ann", "bob")][0] == 4 and pairs[("ann", "cy")][0] == 3 and ("bob", "cy") in pairs
    assert [(d.task_id, d.votes, d.agreement) for d in found.disputed] == [
        (4, {"x": 1, "y": 1}, 0.5),
        (1, {"x": 2, "y": 1}, pytest.approx(2 / 3)),
    ]


def _simulate(seed: int, n_tasks: int = 300, accuracies=(0.95, 0.4, 0.4)):
    rng = np.random.default_rng(seed)
    classes = ["a", "b", "c", "d"]
    truth = {t: classes[int(rng.integers(4))] for t in range(n_tasks)}
    votes = []
    for t, label in truth.items():
        for who, acc in enumerate(accuracies):
            wrong = [c for c in classes if c != label]
            votes.append((t, who, label if rng.random() < acc else wrong[int(rng.integers(3))]))
    return truth, votes


def test_dawid_skene_trusts_the_reliable_annotator_where_majority_vote_cannot():
    truth, votes = _simulate(0)
    ds = ag.dawid_skene(votes)
    majority = ag.majority_vote(votes)
    right_ds = np.mean([ds.labels[t] == truth[t] for t in truth])
    right_mv = np.mean([majority[t] == truth[t] for t in truth])
    assert right_ds > 0.85 and right_ds > right_mv + 0.1
    assert ds.reliability[0] > max(ds.reliability[1], ds.reliability[2]) + 0.2  # it tells who is reliable
    assert ds.classes == ("a", "b", "c", "d") and 1 <= ds.iterations <= 100
    assert all(p.sum() == pytest.approx(1.0) for p in ds.posteriors.values())
    assert ag.dawid_skene([]).labels == {}


def test_majority_vote_breaks_ties_at_random_but_seeded():
    votes = [(1, "a", "x"), (1, "b", "y"), (2, "a", "x"), (2, "b", "x"), (2, "c", "y")]
    assert ag.majority_vote(votes, 3)[2] == "x"
    picks = {ag.majority_vote(votes, seed)[1] for seed in range(20)}
    assert picks == {"x", "y"} and ag.majority_vote(votes, 5) == ag.majority_vote(votes, 5)
