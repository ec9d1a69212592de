"""Agreement between annotators who labeled the same tasks, and two ways to aggregate their votes. Pure.

Votes are ``(task id, annotator, label)`` triples, one single choice each. Measured only on tasks with at least
two votes:

- Fleiss' kappa (Fleiss 1971) over all such tasks, in the usual generalization to a varying number of votes per
  task: P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1)), P = mean P_i, P_e = sum_j p_j^2 with p_j the share of all
  votes for class j; kappa = (P - P_e) / (1 - P_e).
- Cohen's kappa of every pair of annotators on the tasks both labeled (at least ``MIN_PAIR_TASKS``).
- Each annotator's agreement with the consensus: the share of their votes equal to the majority of the OTHER
  annotators' votes on that task (leave-one-out, so one's own vote does not inflate it; tied others are skipped).
- The most disputed tasks: the lowest share of votes for the leading label.

Aggregation: ``majority_vote`` (ties broken at random, seeded) and ``dawid_skene`` (Dawid and Skene, "Maximum
likelihood estimation of observer error-rates using the EM algorithm", Applied Statistics 28(1), 1979): EM over
class priors and one confusion matrix per annotator, started from the vote shares, so reliable annotators weigh
more than unreliable ones.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from al_core.validation import check_int

Vote = tuple[int, Hashable, str]  # (task id, annotator, label)
MIN_PAIR_TASKS = 3  # a pair of annotators with fewer common tasks gets no Cohen's kappa


@dataclass(frozen=True)
class AnnotatorAgreement:
    """One annotator: ``n_votes`` single choices, ``n_compared`` of them on tasks where the others had a majority,
    ``agreement`` = share of those equal to it (None when none compared)."""

    annotator: Hashable
    n_votes: int
    n_compared: int
    agreement: float | None


@dataclass(frozen=True)
class PairKappa:
    """Cohen's kappa of annotators ``a`` and ``b`` on the ``n`` tasks both labeled."""

    a: Hashable
    b: Hashable
    n: int
    kappa: float


@dataclass(frozen=True)
class Disputed:
    """A task several annotators labeled differently: ``votes`` label -> count, ``agreement`` = leading share."""

    task_id: int
    votes: dict[str, int]
    agreement: float


@dataclass(frozen=True)
class Agreement:
    """Agreement on the ``n_tasks`` tasks with at least two votes (``n_single`` tasks had one vote only)."""

    n_tasks: int
    n_single: int
    fleiss_kappa: float | None
    annotators: tuple[AnnotatorAgreement, ...]
    pairs: tuple[PairKappa, ...]
    disputed: tuple[Disputed, ...]


def _by_task(votes: Sequence[Vote]) -> dict[int, list[tuple[Hashable, str]]]:
    grouped: dict[int, list[tuple[Hashable, str]]] = defaultdict(list)
    for task_id, annotator, label in votes:
        grouped[int(task_id)].append((annotator, label))
    return grouped


def fleiss_kappa(label_lists: Sequence[Sequence[str]]) -> float | None:
    """Fleiss' kappa of tasks given as their lists of votes (tasks with fewer than 2 votes are ignored); None when
    no task has two votes; 1.0 when every vote is the same label (the formula is 0/0 there)."""
    rated = [list(v) for v in label_lists if len(v) >= 2]
    if not rated:
        return None
    per_task, totals = [], Counter()
    for labels in rated:
        counts = Counter(labels)
        n = len(labels)
        per_task.append((sum(c * c for c in counts.values()) - n) / (n * (n - 1)))
        totals.update(counts)
    observed = float(np.mean(per_task))
    n_votes = sum(totals.values())
    expected = sum((c / n_votes) ** 2 for c in totals.values())
    if np.isclose(expected, 1.0):
        return 1.0
    return (observed - expected) / (1.0 - expected)


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Cohen's kappa of two aligned label lists; 1.0 when both are constant and identical (where the formula gives
    0/0), 0.0 when both are constant and different. Also the stability of successive model versions
    (``evaluation.prediction_stability``)."""
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    ca, cb = Counter(first), Counter(second)
    expected = sum(ca[c] * cb[c] for c in ca) / (n * n)
    if math.isclose(expected, 1.0):
        return 1.0 if math.isclose(observed, 1.0) else 0.0
    return (observed - expected) / (1.0 - expected)


def agreement(votes: Sequence[Vote], *, top: int = 20) -> Agreement:
    """Fleiss' kappa, each annotator's agreement with the others' majority, pairwise Cohen's kappas and the ``top``
    most disputed tasks (lowest leading share first, then most votes, then task id). See the module docstring."""
    check_int("top", top, 0)
    grouped = _by_task(votes)
    multi = {t: v for t, v in grouped.items() if len(v) >= 2}
    per_annotator: dict[Hashable, list[bool]] = defaultdict(list)
    n_votes: Counter = Counter(a for _, a, _ in votes)
    for task_votes in multi.values():
        for i, (annotator, label) in enumerate(task_votes):
            others = Counter(lab for j, (_, lab) in enumerate(task_votes) if j != i).most_common()
            if len(others) > 1 and others[0][1] == others[1][1]:
                continue  # the others are tied: no consensus to compare with
            per_annotator[annotator].append(label == others[0][0])
    annotators = tuple(
        AnnotatorAgreement(
            a, n_votes[a], len(per_annotator[a]), float(np.mean(per_annotator[a])) if per_annotator[a] else None
        )
        for a in sorted(n_votes, key=str)
    )
    return Agreement(
        n_tasks=len(multi),
        n_single=len(grouped) - len(multi),
        fleiss_kappa=fleiss_kappa([[lab for _, lab in v] for v in multi.values()]),
        annotators=annotators,
        pairs=_pairs(multi),
        disputed=_disputed(multi, top),
    )


def _pairs(multi: dict[int, list[tuple[Hashable, str]]]) -> tuple[PairKappa, ...]:
    by_annotator: dict[Hashable, dict[int, str]] = defaultdict(dict)
    for task_id, task_votes in multi.items():
        for annotator, label in task_votes:
            by_annotator[annotator][task_id] = label  # an annotator's latest vote on a task
    out = []
    for a, b in combinations(sorted(by_annotator, key=str), 2):
        common = sorted(set(by_annotator[a]) & set(by_annotator[b]))
        if len(common) >= MIN_PAIR_TASKS:
            kappa = cohen_kappa([by_annotator[a][t] for t in common], [by_annotator[b][t] for t in common])
            out.append(PairKappa(a, b, len(common), kappa))
    return tuple(out)


def _disputed(multi: dict[int, list[tuple[Hashable, str]]], top: int) -> tuple[Disputed, ...]:
    found = []
    for task_id, task_votes in multi.items():
        counts = Counter(lab for _, lab in task_votes)
        share = counts.most_common(1)[0][1] / len(task_votes)
        if share < 1.0:
            found.append(Disputed(task_id, dict(counts.most_common()), share))
    found.sort(key=lambda d: (d.agreement, -sum(d.votes.values()), d.task_id))
    return tuple(found[:top])


def majority_vote(votes: Sequence[Vote], random_state: int = 0) -> dict[int, str]:
    """Task id -> the label most votes chose; ties broken at random (seeded)."""
    rng = np.random.default_rng(random_state)
    out = {}
    for task_id, task_votes in sorted(_by_task(votes).items()):
        counts = Counter(lab for _, lab in task_votes)
        best = max(counts.values())
        tied = sorted(label for label, c in counts.items() if c == best)
        out[task_id] = tied[int(rng.integers(len(tied)))] if len(tied) > 1 else tied[0]
    return out


@dataclass(frozen=True)
class DawidSkene:
    """Dawid-Skene's aggregate: ``labels`` task id -> most probable class, ``posteriors`` task id -> P(class) per
    ``classes``, ``reliability`` annotator -> estimated accuracy (sum over classes of prior x P(right)), and the
    EM ``iterations`` run."""

    classes: tuple[str, ...]
    labels: dict[int, str]
    posteriors: dict[int, np.ndarray]
    reliability: dict[Hashable, float]
    iterations: int


def dawid_skene(
    votes: Sequence[Vote], *, max_iter: int = 100, tol: float = 1e-6, smoothing: float = 0.01
) -> DawidSkene:
    """Aggregate ``votes`` with Dawid-Skene EM (see the module docstring), started from the vote shares.
    ``smoothing`` is added to every confusion count (no zero probabilities). Returns empty results for no votes."""
    check_int("max_iter", max_iter, 1)
    classes = tuple(sorted({lab for _, _, lab in votes}))
    tasks = sorted({int(t) for t, _, _ in votes})
    people = sorted({a for _, a, _ in votes}, key=str)
    if not votes:
        return DawidSkene(classes, {}, {}, {}, 0)
    t_pos, a_pos = {t: i for i, t in enumerate(tasks)}, {a: i for i, a in enumerate(people)}
    c_pos = {c: i for i, c in enumerate(classes)}
    ti = np.array([t_pos[int(t)] for t, _, _ in votes], dtype=np.intp)
    ai = np.array([a_pos[a] for _, a, _ in votes], dtype=np.intp)
    li = np.array([c_pos[lab] for _, _, lab in votes], dtype=np.intp)
    k = len(classes)
    post = np.zeros((len(tasks), k))
    np.add.at(post, (ti, li), 1.0)
    post /= post.sum(axis=1, keepdims=True)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        prior = post.mean(axis=0) + 1e-12
        conf = np.full((len(people), k, k), smoothing)
        np.add.at(conf, (ai[:, None], np.arange(k)[None, :], li[:, None]), post[ti])
        conf /= conf.sum(axis=2, keepdims=True)
        log_post = np.tile(np.log(prior), (len(tasks), 1))
        np.add.at(log_post, ti, np.log(conf[ai, :, li]))
        new = np.exp(log_post - log_post.max(axis=1, keepdims=True))
        new /= new.sum(axis=1, keepdims=True)
        change = float(np.abs(new - post).max())
        post = new
        if change < tol:
            break
    reliability = {a: float((prior * np.diagonal(conf[i])).sum()) for i, a in enumerate(people)}
    labels = {t: classes[int(np.argmax(post[i]))] for i, t in enumerate(tasks)}
    return DawidSkene(classes, labels, {t: post[i] for i, t in enumerate(tasks)}, reliability, iterations)
