"""How good is the model, how sure is it, and is it still changing? Pure functions over labels and arrays.

Label values are ``str`` for single-label projects and tuples of ``str`` for multi-label ones; in the
multi-label case a tuple is compared as a set (order does not matter).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from al_core.errors import ConfigError, NotEnoughData
from al_core.learning import intervals, models
from al_core.learning.agreement import cohen_kappa
from al_core.learning.strategies import normalized_entropy, top_probability
from al_core.validation import check_int

_QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95}
_HISTOGRAM_BINS = 20


def default_eval_size(n_tasks: int) -> int:
    """About 10% of the tasks, at most 300, at least ``min(n_tasks, 20)``. Raises ConfigError if negative."""
    check_int("n_tasks", n_tasks, 0)
    return int(max(min(n_tasks, 20), min(300, (n_tasks + 5) // 10)))


def choose_eval_set(task_ids: Sequence[int], size: int | None = None, random_state: int = 0) -> tuple[int, ...]:
    """A fixed random sample of ``size`` task ids (default ``default_eval_size``), returned sorted.

    The draw depends only on the set of ids and ``random_state``, not on their order. Raises ConfigError
    for duplicate ids or a negative size, NotEnoughData when ``size`` exceeds the number of tasks.
    """
    ids = sorted(int(task_id) for task_id in task_ids)
    if len(set(ids)) != len(ids):
        duplicates = sorted(task_id for task_id, count in Counter(ids).items() if count > 1)
        raise ConfigError(f"Task ids must be unique; repeated: {duplicates[:10]}.")
    size = default_eval_size(len(ids)) if size is None else size
    check_int("size", size, 0)
    if size > len(ids):
        raise NotEnoughData(f"Cannot draw {size} evaluation tasks from {len(ids)} tasks. Choose a size <= {len(ids)}.")
    picked = np.random.default_rng(random_state).choice(len(ids), size=int(size), replace=False)
    return tuple(sorted(ids[i] for i in picked))


@dataclass(frozen=True)
class VersionMetrics:
    """Quality of one model version on the evaluation set.

    Single-label: ``confusion[i][j]`` counts tasks of true label ``labels[i]`` predicted as ``labels[j]``.
    Multi-label: ``accuracy`` is subset accuracy (all labels right), ``macro_f1`` averages per-label F1
    and ``confusion[i]`` is ``(tn, fp, fn, tp)`` of label ``labels[i]``. ``per_class_f1`` and
    ``macro_f1`` only cover labels that occur in the truth or the predictions (F1 is undefined otherwise).
    """

    n_eval: int
    accuracy: float
    macro_f1: float
    per_class_f1: dict[str, float]
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (tuples become lists)."""
        data = asdict(self)
        data["labels"] = list(self.labels)
        data["confusion"] = [list(row) for row in self.confusion]
        return data


def _as_set(value: Any) -> frozenset:
    if isinstance(value, (tuple, list, set, frozenset)):
        return frozenset(value)
    return frozenset() if value is None else frozenset([value])


def _f1_scores(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    denominators = 2 * tp + fp + fn
    return {label: float(2 * tp[i] / denominators[i]) for i, label in enumerate(labels) if denominators[i] > 0}


def _all_labels(labels: Sequence[str], seen: set) -> tuple[str, ...]:
    # Labels missing from ``labels`` (e.g. a class removed from the config) are appended, sorted.
    known = tuple(labels)
    return known + tuple(sorted(set(map(str, seen)) - set(known)))


def measure(
    y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[str], *, multi_label: bool = False
) -> VersionMetrics | None:
    """Accuracy, macro F1, per-class F1 and confusion of ``y_pred`` against ``y_true``.

    ``labels`` fixes the row/column order; labels found in the data but not in ``labels`` are appended
    in sorted order. Returns None when ``y_true`` is empty. Raises ConfigError when lengths differ.
    """
    if len(y_true) != len(y_pred):
        raise ConfigError(f"Got {len(y_true)} true labels but {len(y_pred)} predictions; they must match.")
    if len(y_true) == 0:
        return None
    if multi_label:
        return _measure_multi_label(y_true, y_pred, labels)
    order = _all_labels(labels, set(y_true) | set(y_pred))
    index = {label: i for i, label in enumerate(order)}
    matrix = np.zeros((len(order), len(order)), dtype=np.int64)
    np.add.at(matrix, ([index[str(t)] for t in y_true], [index[str(p)] for p in y_pred]), 1)
    tp = np.diag(matrix)
    f1 = _f1_scores(tp, matrix.sum(axis=0) - tp, matrix.sum(axis=1) - tp, order)
    return VersionMetrics(
        n_eval=len(y_true),
        accuracy=float(tp.sum() / len(y_true)),
        macro_f1=float(np.mean(list(f1.values()))),
        per_class_f1=f1,
        labels=order,
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
    )


def _measure_multi_label(y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[str]) -> VersionMetrics:
    true_sets = [_as_set(t) for t in y_true]
    pred_sets = [_as_set(p) for p in y_pred]
    order = _all_labels(labels, set().union(*true_sets, *pred_sets))
    truth = np.array([[label in s for label in order] for s in true_sets], dtype=bool).reshape(-1, len(order))
    pred = np.array([[label in s for label in order] for s in pred_sets], dtype=bool).reshape(-1, len(order))
    tn, fp = (~truth & ~pred).sum(axis=0), (~truth & pred).sum(axis=0)
    fn, tp = (truth & ~pred).sum(axis=0), (truth & pred).sum(axis=0)
    f1 = _f1_scores(tp, fp, fn, order)
    return VersionMetrics(
        n_eval=len(y_true),
        accuracy=float(np.mean([t == p for t, p in zip(true_sets, pred_sets, strict=True)])),
        macro_f1=float(np.mean(list(f1.values()))) if f1 else 0.0,
        per_class_f1=f1,
        labels=order,
        confusion=tuple((int(a), int(b), int(c), int(d)) for a, b, c, d in zip(tn, fp, fn, tp, strict=True)),
    )


@dataclass(frozen=True)
class Uncertainty:
    """How sure a measurement is: 95% intervals ``(low, high)`` of accuracy (Wilson) and macro-F1 (bootstrap;
    None for multi-label or fewer than 2 tasks), and each evaluation task's outcome: task id -> ``(predicted
    label, right or not, confidence, true label)``, the labels of a multi-label task joined with ``|``."""

    accuracy_ci: tuple[float, float] | None
    macro_f1_ci: tuple[float, float] | None
    outcomes: dict[int, tuple[str, bool, float, str]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: intervals as lists, outcomes as ``{task_id: [predicted, correct, confidence, truth]}``."""
        return {
            "accuracy_ci": list(self.accuracy_ci) if self.accuracy_ci else None,
            "macro_f1_ci": list(self.macro_f1_ci) if self.macro_f1_ci else None,
            "eval_outcomes": {tid: list(outcome) for tid, outcome in self.outcomes.items()},
        }


def _label_text(value: Any) -> str:
    return str(value) if isinstance(value, str) else "|".join(sorted(_as_set(value)))


def uncertainty(
    task_ids: Sequence[int],
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    confidence: Sequence[float],
    labels: Sequence[str],
    *,
    multi_label: bool = False,
    random_state: int = 0,
) -> Uncertainty:
    """The intervals and per-task outcomes of ``y_pred`` against ``y_true`` on the evaluation tasks ``task_ids``.

    ``confidence``: the model's top probability per task. Raises ConfigError when the lengths differ.
    """
    if not len(task_ids) == len(y_true) == len(y_pred) == len(confidence):
        raise ConfigError(
            f"Got {len(task_ids)} task ids, {len(y_true)} true labels, {len(y_pred)} predictions and "
            f"{len(confidence)} confidences; they must match one to one."
        )
    correct = [_as_set(t) == _as_set(p) for t, p in zip(y_true, y_pred, strict=True)]
    outcomes = {
        int(tid): (_label_text(p), ok, round(float(c), 4), _label_text(t))
        for tid, t, p, ok, c in zip(task_ids, y_true, y_pred, correct, confidence, strict=True)
    }
    f1_ci = None
    if not multi_label:
        f1_ci = intervals.macro_f1_interval(
            [str(t) for t in y_true], [str(p) for p in y_pred], labels, random_state=random_state
        )
    return Uncertainty(intervals.accuracy_interval(sum(correct), len(correct)), f1_ci, outcomes)


def accuracy_sentence(accuracy: float | None, n_eval: int, ci: Sequence[float] | None) -> str:
    """``80.0% accuracy on 40 evaluation-set labels (95% interval 65.0%-89.5%; about 206 more labels for
    +-5 points)``, or ``no evaluation-set labels yet``: how the CLI and the pages state a version's accuracy."""
    if accuracy is None or not n_eval:
        return "no evaluation-set labels yet"
    shown = f"{accuracy:.1%} accuracy on {n_eval:,} evaluation-set labels"
    more = intervals.labels_for_margin(accuracy, n_eval)
    margin = f"{intervals.TARGET_MARGIN:.0%}".rstrip("%")
    narrow = f"about {more:,} more labels for +-{margin} points" if more else f"within +-{margin} points"
    if ci is None or len(ci) != 2:
        return f"{shown} ({narrow})"
    return f"{shown} (95% interval {ci[0]:.1%}-{ci[1]:.1%}; {narrow})"


def _cv_splits(labels: list, multi_label: bool, folds: int, random_state: int) -> list | None:
    """Fold index pairs, or None when the data cannot give every training fold two classes."""
    if multi_label:
        n_splits = min(folds, len(labels))
        if n_splits < 2:
            return None
        return list(KFold(n_splits, shuffle=True, random_state=random_state).split(labels))
    counts = sorted(Counter(labels).values(), reverse=True)
    # With k <= the second-largest class size, every training fold holds at least two classes.
    n_splits = min(folds, counts[1]) if len(counts) >= 2 else 0
    if n_splits < 2:
        return None
    return stratified_folds(labels, n_splits, random_state)


def stratified_folds(labels: Sequence[Any], n_splits: int, random_state: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_splits`` shuffled stratified folds of ``labels`` as (train, test) index arrays; scikit-learn's warning
    that a class has fewer members than folds is silenced (the callers choose ``n_splits`` knowing it)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        return list(StratifiedKFold(n_splits, shuffle=True, random_state=random_state).split(labels, labels))


def cross_val_accuracy(
    model_name: str,
    texts: Sequence[str],
    labels: Sequence[Any],
    *,
    params: Mapping[str, Any] | None = None,
    multi_label: bool = False,
    folds: int = 5,
    random_state: int = 0,
) -> float | None:
    """Cross-validated accuracy (subset accuracy for multi-label) of ``model_name`` on the labeled tasks.

    Uses ``min(folds, size of the second-largest class)`` stratified folds, so small classes may be
    missing from some training folds (as they would be for a new task). Returns None when fewer than two
    classes have two examples each (multi-label: fewer than 2 tasks, or a training fold with < 2 labels).
    Raises ConfigError for an unknown model, bad parameters or ``folds`` < 2.
    """
    check_int("folds", folds, 2)
    models.resolve_params(model_name, params)
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise ConfigError(f"Got {len(texts)} texts but {len(labels)} labels; they must match one to one.")
    splits = _cv_splits(labels, multi_label, folds, random_state)
    if splits is None:
        return None
    correct = 0
    for train, test in splits:
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Label .* is present in all training", category=UserWarning)
                fitted = models.fit_model(
                    model_name,
                    [texts[i] for i in train],
                    [labels[i] for i in train],
                    params=params,
                    multi_label=multi_label,
                    random_state=random_state,
                )
        except NotEnoughData:
            return None
        predicted = fitted.predict([texts[i] for i in test])
        correct += sum(_as_set(p) == _as_set(labels[i]) for p, i in zip(predicted, test, strict=True))
    return correct / len(labels)


def _norm(value: Any) -> Hashable:
    return _as_set(value) if isinstance(value, (tuple, list, set, frozenset)) else value


def agreement(predicted: Mapping[int, Any], human: Mapping[int, Any]) -> tuple[float | None, int]:
    """Share of tasks with both a prediction and a human label where the two match, and how many such
    tasks there are. Returns ``(None, 0)`` when no task has both.
    """
    common = [i for i in predicted if i in human and predicted[i] is not None and human[i] is not None]
    if not common:
        return None, 0
    matches = sum(_norm(predicted[i]) == _norm(human[i]) for i in common)
    return matches / len(common), len(common)


@dataclass(frozen=True)
class UncertaintySummary:
    """Distribution of informativeness over the unlabeled pool (values are None when the pool is empty).

    ``histogram_counts`` has 20 bins over ``histogram_edges`` (21 edges on [0, 1]).
    """

    n: int
    quantiles: dict[str, float]
    histogram_counts: tuple[int, ...]
    histogram_edges: tuple[float, ...]
    top_probability_quantiles: dict[str, float]
    mean_normalized_entropy: float | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (tuples become lists)."""
        data = asdict(self)
        data["histogram_counts"] = list(self.histogram_counts)
        data["histogram_edges"] = list(self.histogram_edges)
        return data


def _quantiles(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {}
    return {key: float(np.quantile(values, q)) for key, q in _QUANTILES.items()}


def summarize_uncertainty(info: np.ndarray, proba: np.ndarray, *, multi_label: bool = False) -> UncertaintySummary:
    """Quantiles and a 20-bin histogram of ``info``, top-probability quantiles and mean normalized entropy.

    Raises ConfigError when ``info`` and ``proba`` do not have the same number of rows.
    """
    info = np.clip(np.asarray(info, dtype=np.float64).ravel(), 0.0, 1.0)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[0] != info.shape[0]:
        raise ConfigError(f"'info' has {info.shape[0]} values but 'proba' has shape {proba.shape}; rows must match.")
    counts, edges = np.histogram(info, bins=_HISTOGRAM_BINS, range=(0.0, 1.0))
    entropies = normalized_entropy(proba, multi_label=multi_label)
    return UncertaintySummary(
        n=int(info.shape[0]),
        quantiles=_quantiles(info),
        histogram_counts=tuple(int(c) for c in counts),
        histogram_edges=tuple(float(e) for e in edges),
        top_probability_quantiles=_quantiles(top_probability(proba)),
        mean_normalized_entropy=float(entropies.mean()) if entropies.size else None,
    )


def prediction_stability(previous: Mapping[int, Any], current: Mapping[int, Any]) -> tuple[float | None, float | None]:
    """Compare two model versions' predictions on the tasks both predicted.

    Returns ``(share of those tasks whose prediction changed, Cohen's kappa between the versions)``, or
    ``(None, None)`` when no task has both predictions. Kappa is 1.0 when both versions predict the same
    single label everywhere (the formula is 0/0 there; scikit-learn would return nan).
    """
    common = sorted(i for i in previous if i in current)
    if not common:
        return None, None
    before = [_norm(previous[i]) for i in common]
    after = [_norm(current[i]) for i in common]
    changed = sum(a != b for a, b in zip(before, after, strict=True)) / len(common)
    return changed, cohen_kappa(before, after)
