"""Query strategies: pure functions of a probability matrix, plus batch-diversity and cold-start orders.

A strategy is a *measure* (how informative is each task?) composed with a *selector* (which order do we
serve tasks in?). Measures take ``proba`` of shape ``(n_samples, n_classes)`` whose rows sum to 1, or
for multi-label a matrix of independent per-label probabilities (``multi_label=True``), and return a
float array in ``[0, 1]`` where HIGHER means more informative (1 = the model has no idea).

Multi-label: each label is treated as its own binary problem ``[p, 1 - p]``; the binary uncertainty is
computed per label and averaged over labels. For a binary problem least confidence and margin coincide
(``1 - |2p - 1|``); entropy is the binary entropy in bits.

Orders are permutations of ``range(n)``, most-wanted task first; ``order_to_scores`` turns one into the
prediction scores Label Studio expects (it serves the LOWEST score first). Ties are always broken by the
task position (stable sorts), so the same input gives the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from al_core.errors import ConfigError
from al_core.validation import check_int

StrategyName = Literal["random", "least_confidence", "margin", "entropy"]
STRATEGIES: tuple[str, ...] = get_args(StrategyName)
DEFAULT_STRATEGY: StrategyName = "margin"
COLD_START_BATCH = 50  # the diverse first batch a cold start puts at the front of the queue

_MAX_SVD_COMPONENTS = 100
_MAX_CLUSTERS = 20
_ROW_SUM_TOLERANCE = 1e-3


CHUNK_ROWS = 65_536  # rows of probabilities measured at a time


def _check_proba(proba: np.ndarray, multi_label: bool, first_row: int = 0) -> np.ndarray:
    """Return ``proba`` as a float64 2-D array, or raise ConfigError saying what is wrong (rows are numbered
    from ``first_row``: ``proba`` may be a chunk of a bigger array)."""
    arr = np.asarray(proba, dtype=np.float64)
    if arr.ndim != 2:
        raise ConfigError(f"'proba' must be a 2-D array (n_samples, n_classes). Got shape {arr.shape} instead.")
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0.0 or arr.max() > 1.0 + _ROW_SUM_TOLERANCE):
        raise ConfigError("'proba' must hold finite probabilities in [0, 1]. Check the model's predict_proba.")
    if not multi_label and arr.shape[0]:
        sums = arr.sum(axis=1)
        worst = int(np.argmax(np.abs(sums - 1.0)))
        if abs(sums[worst] - 1.0) > _ROW_SUM_TOLERANCE:
            raise ConfigError(
                f"Rows of 'proba' must sum to 1; row {first_row + worst} sums to {sums[worst]:.4f}. "
                "Pass multi_label=True for independent per-label probabilities."
            )
    return np.clip(arr, 0.0, 1.0)


def _binary_stack(proba: np.ndarray) -> np.ndarray:
    """Per-label binary distributions ``[p, 1 - p]``: shape (n_samples, n_labels, 2)."""
    return np.stack([proba, 1.0 - proba], axis=-1)


def _least_confidence_rows(proba: np.ndarray) -> np.ndarray:
    n_classes = proba.shape[-1]
    if n_classes < 2:
        return np.zeros(proba.shape[:-1])
    # Normalized least confidence: 1 at the uniform distribution whatever the number of classes.
    return (1.0 - proba.max(axis=-1)) * n_classes / (n_classes - 1)


def _margin_rows(proba: np.ndarray) -> np.ndarray:
    if proba.shape[-1] < 2:
        return np.zeros(proba.shape[:-1])
    top2 = np.sort(proba, axis=-1)[..., -2:]
    return 1.0 - (top2[..., 1] - top2[..., 0])


def _entropy_rows(proba: np.ndarray) -> np.ndarray:
    n_classes = proba.shape[-1]
    if n_classes < 2:
        return np.zeros(proba.shape[:-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(proba > 0.0, proba * np.log(proba), 0.0)
    return -terms.sum(axis=-1) / np.log(n_classes)


def _measure(rows_fn: Callable[[np.ndarray], np.ndarray], proba: np.ndarray, multi_label: bool) -> np.ndarray:
    """``rows_fn`` of every row, ``CHUNK_ROWS`` rows at a time: the checks and the measures make several
    temporaries of ``proba``'s size (a 1,000,000 x 15 pool: ~0.5 GB at once); per chunk they stay ~40 MB."""
    if np.ndim(proba) != 2:
        _check_proba(proba, multi_label)  # raises, saying what is wrong
    out = np.empty(len(proba))
    for start in range(0, len(proba), CHUNK_ROWS):
        arr = _check_proba(proba[start : start + CHUNK_ROWS], multi_label, first_row=start)
        if multi_label:
            values = rows_fn(_binary_stack(arr)).mean(axis=1) if arr.shape[1] else np.zeros(arr.shape[0])
        else:
            values = rows_fn(arr)
        out[start : start + CHUNK_ROWS] = values
    return np.clip(out, 0.0, 1.0, out=out)


def least_confidence(proba: np.ndarray, *, multi_label: bool = False) -> np.ndarray:
    """Normalized least confidence ``(1 - p_top) * k / (k - 1)`` for ``k`` classes, in [0, 1].

    Returns a float array of shape (n_samples,); higher = more informative. Raises ConfigError on a
    malformed ``proba``.
    """
    return _measure(_least_confidence_rows, proba, multi_label)


def margin(proba: np.ndarray, *, multi_label: bool = False) -> np.ndarray:
    """Margin ("breaking ties"): ``1 - (p_top1 - p_top2)``, in [0, 1]; 1 when the two best classes tie.

    Returns a float array of shape (n_samples,); higher = more informative.
    """
    return _measure(_margin_rows, proba, multi_label)


def entropy(proba: np.ndarray, *, multi_label: bool = False) -> np.ndarray:
    """Shannon entropy divided by ``log(n_classes)``, in [0, 1]; 1 at the uniform distribution.

    Returns a float array of shape (n_samples,); higher = more informative.
    """
    return _measure(_entropy_rows, proba, multi_label)


def normalized_entropy(proba: np.ndarray, multi_label: bool = False) -> np.ndarray:
    """Normalized entropy per task (see ``entropy``); used by the stopping signals."""
    return entropy(proba, multi_label=multi_label)


def top_probability(proba: np.ndarray) -> np.ndarray:
    """Highest probability per row (for multi-label: of the most likely label); empty rows give 0."""
    arr = np.asarray(proba, dtype=np.float64)
    if arr.ndim != 2:
        raise ConfigError(f"'proba' must be a 2-D array (n_samples, n_classes). Got shape {arr.shape} instead.")
    if arr.shape[1] == 0:
        return np.zeros(arr.shape[0])
    return arr.max(axis=1)


def check_strategy(name: str) -> StrategyName:
    """Return ``name`` if it is a known strategy, else raise ConfigError listing the valid ones."""
    if name not in STRATEGIES:
        raise ConfigError(f"The 'strategy' parameter must be one of {list(STRATEGIES)}. Got {name!r} instead.")
    return name  # type: ignore[return-value]


def informativeness(
    name: str, proba: np.ndarray, *, multi_label: bool = False, random_state: int | None = None
) -> np.ndarray:
    """Informativeness of every task under strategy ``name`` (higher = ask a human first).

    Parameters: ``name`` one of ``STRATEGIES``; ``proba`` (n_samples, n_classes); ``multi_label`` for
    per-label probabilities; ``random_state`` seeds the "random" strategy (uniform values in [0, 1)).
    Returns a float array of shape (n_samples,) in [0, 1]. Raises ConfigError for an unknown name or a
    malformed ``proba``.
    """
    check_strategy(name)
    if name == "random":
        arr = _check_proba(proba, multi_label)
        return np.random.default_rng(random_state).random(arr.shape[0])
    measures = {"least_confidence": least_confidence, "margin": margin, "entropy": entropy}
    return measures[name](proba, multi_label=multi_label)


def _reduce(features, random_state: int | None) -> np.ndarray:
    """Dense, L2-normalized rows: TruncatedSVD down to <= 100 components when there are more features."""
    n_samples, n_features = features.shape
    n_components = min(_MAX_SVD_COMPONENTS, n_samples - 1)
    if n_features <= _MAX_SVD_COMPONENTS or n_components < 1:
        dense = features.toarray() if sp.issparse(features) else np.asarray(features)
    else:
        svd = TruncatedSVD(n_components=n_components, random_state=random_state)
        with threadpool_limits(1):
            dense = svd.fit_transform(features)
    return normalize(np.asarray(dense, dtype=np.float64))


def _kmeans_labels(points: np.ndarray, n_clusters: int, random_state: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Cluster labels and centroids; never asks for more clusters than there are distinct points."""
    n_distinct = np.unique(np.round(points, 10), axis=0).shape[0]
    n_clusters = max(1, min(n_clusters, n_distinct))
    if n_clusters == 1:
        return np.zeros(points.shape[0], dtype=np.intp), points.mean(axis=0, keepdims=True)
    km = MiniBatchKMeans(n_clusters=n_clusters, random_state=random_state, n_init=3, batch_size=1024)
    with threadpool_limits(1):
        labels = km.fit_predict(points)
    return labels, km.cluster_centers_


def _check_features(features, n: int):
    """``features`` as a CSR or plain numpy matrix (no copy of a dense array: ``_reduce`` converts the
    rows it is given, so a 100,000-row pool is never copied whole to float64)."""
    features = sp.csr_matrix(features) if sp.issparse(features) else np.asarray(features)
    if features.ndim != 2 or features.shape[0] != n:
        raise ConfigError(f"'features' must have one row per task ({n} rows). Got shape {features.shape}.")
    if not sp.issparse(features) and not np.issubdtype(features.dtype, np.number):
        raise ConfigError(f"'features' must be numeric. Got dtype {features.dtype}.")
    return features


def diverse_order(
    info: np.ndarray,
    features,
    *,
    batch_size: int,
    n_clusters: int | None = None,
    candidates_factor: int = 10,
    random_state: int | None = None,
) -> np.ndarray:
    """Order tasks so that each batch is informative AND varied (not ten near-duplicates).

    The ``candidates_factor * batch_size`` most informative tasks are clustered (TruncatedSVD to <= 100
    components, L2 normalization, MiniBatchKMeans with ``n_clusters`` = min(batch_size, candidates, 20)
    by default); clusters are visited round-robin, best cluster first, each giving its most informative
    remaining task. All other tasks follow in descending informativeness.

    Parameters: ``info`` (n,) informativeness; ``features`` (n, d) sparse or dense matrix, or a function of an
    int array of rows giving those rows' features: then only the candidates' are computed (at 1,000,000 tasks a
    pool's TF-IDF matrix or sentence vectors are ~0.5-1.5 GB; the candidates' ~1 MB).
    Returns an int array, a permutation of ``range(n)``, most-wanted first.
    Raises ConfigError for mismatched shapes or invalid counts.
    """
    info = np.asarray(info, dtype=np.float64)
    if info.ndim != 1:
        raise ConfigError(f"'info' must be a 1-D array. Got shape {info.shape} instead.")
    batch_size = check_int("batch_size", batch_size, 1)
    candidates_factor = check_int("candidates_factor", candidates_factor, 1)
    if n_clusters is not None:
        n_clusters = check_int("n_clusters", n_clusters, 1)
    if not callable(features):
        features = _check_features(features, info.shape[0])
    by_info = np.argsort(-info, kind="stable")
    n_candidates = min(info.shape[0], candidates_factor * batch_size)
    wanted = n_clusters if n_clusters is not None else min(batch_size, _MAX_CLUSTERS)
    wanted = min(wanted, n_candidates)
    if wanted <= 1:
        return by_info
    candidates = by_info[:n_candidates]
    chosen = _check_features(features(candidates), n_candidates) if callable(features) else features[candidates]
    labels, _ = _kmeans_labels(_reduce(chosen, random_state), wanted, random_state)
    return np.concatenate([candidates[_round_robin(labels)], by_info[n_candidates:]]).astype(np.intp)


def _round_robin(labels: np.ndarray) -> np.ndarray:
    """Positions visiting clusters in turn; within a cluster (and between clusters) in position order.

    ``labels[i]`` is the cluster of the i-th best candidate, so a cluster's first position is its best.
    """
    rank_in_cluster = np.zeros(labels.shape[0], dtype=np.intp)
    seen: dict[int, int] = {}
    for position, label in enumerate(labels.tolist()):
        rank_in_cluster[position] = seen.get(label, 0)
        seen[label] = rank_in_cluster[position] + 1
    # Round r first, then position: each round visits clusters in order of their next-best candidate.
    return np.lexsort((np.arange(labels.shape[0]), rank_in_cluster))


def cold_start_order(features, *, batch_size: int, random_state: int | None = None) -> np.ndarray:
    """A diverse, typical first batch when there is no model yet.

    Tasks are clustered into ``batch_size`` groups (k-means on reduced, normalized features); the task
    closest to each centroid comes first, biggest cluster first; all other tasks follow in a random order
    fixed by ``random_state``. Returns a permutation of ``range(n)``. Raises ConfigError on bad input.
    """
    batch_size = check_int("batch_size", batch_size, 1)
    n = features.shape[0] if hasattr(features, "shape") else len(features)
    features = _check_features(features, n)
    rng = np.random.default_rng(random_state)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    points = _reduce(features, random_state)
    labels, centers = _kmeans_labels(points, min(batch_size, n), random_state)
    representatives: list[tuple[int, int]] = []  # (-cluster size, task index)
    for cluster in np.unique(labels):
        members = np.flatnonzero(labels == cluster)
        distances = ((points[members] - centers[cluster]) ** 2).sum(axis=1)
        representatives.append((-members.shape[0], int(members[np.argmin(distances)])))
    first = np.array([index for _, index in sorted(representatives)], dtype=np.intp)
    rest = np.setdiff1d(np.arange(n), first)
    return np.concatenate([first, rng.permutation(rest)]).astype(np.intp)


def order_to_scores(order: np.ndarray, n: int) -> np.ndarray:
    """Prediction scores for Label Studio: the task at position ``i`` of ``order`` gets ``i / n``.

    Label Studio serves the LOWEST score first, so the most-wanted task gets 0. Returns a float array of
    shape (n,) in [0, 1). Raises ConfigError when ``order`` is not a permutation of ``range(n)``.
    """
    order = np.asarray(order)
    if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
        raise ConfigError(f"'order' must be a permutation of range({n}). Got {order.shape[0]} entries.")
    scores = np.empty(n, dtype=np.float64)
    scores[order] = np.arange(n, dtype=np.float64) / max(n, 1)
    return scores
