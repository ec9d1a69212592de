"""Label Studio's queue, expressed through prediction scores (it serves the LOWEST score first).

The evaluation set's unlabeled tasks are interleaved early (one in every ``eval_every`` positions) so the
first model is not delayed, the rest follow in the strategy's order. The evaluation tasks themselves are
served in ``eval_order``: a random order fixed by the set, never the strategy's, so the labeled part of the
set is always a simple random sample of it (served in the strategy's order it was its hardest part, and
the measured accuracy fell while the models improved). Only the predictions the queue needs before the next
version are uploaded: every unlabeled evaluation task plus the ``upload_top`` most wanted pool tasks (all of
them when ``upload_top`` is 0).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QueuePlan:
    """``uploads``: (task id, score, is evaluation task), in serving order."""

    uploads: tuple[tuple[int, float, bool], ...]
    n_queue: int  # every unlabeled task, in the order the scores express
    n_eval_queued: int


EVAL_ORDER = "random"  # stored with each version (``counts.eval_order``): how its queue served the evaluation set


def eval_order(eval_ids: Sequence[int]) -> tuple[int, ...]:
    """The order the evaluation set is served in: a permutation of its sorted ids, seeded by the set itself.

    Derived, not stored: the seed is a digest of the sorted ids, so the order is fixed the moment the set is
    drawn (and the set never changes), needs no schema change, and no later setting (``random_state``, the
    strategy, the model) can reorder it. It is independent of the labels and of every model, which is what
    makes each prefix of it - the tasks labeled so far - a simple random sample of the set.
    """
    ids = sorted({int(t) for t in eval_ids})
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    return tuple(ids[i] for i in rng.permutation(len(ids)))


def interleave(eval_ids: Sequence[int], rest: Sequence[int], eval_every: int) -> list[tuple[int, bool]]:
    """One evaluation task at every ``eval_every``-th position (starting with the first) while any remain."""
    merged: list[tuple[int, bool]] = []
    ei, ri = 0, 0
    while ei < len(eval_ids) or ri < len(rest):
        take_eval = ei < len(eval_ids) and (len(merged) % eval_every == 0 or ri >= len(rest))
        if take_eval:
            merged.append((int(eval_ids[ei]), True))
            ei += 1
        else:
            merged.append((int(rest[ri]), False))
            ri += 1
    return merged


def plan_queue(
    *, pool_ids: np.ndarray, order: np.ndarray, eval_ids: Sequence[int], upload_top: int, eval_every: int = 5
) -> QueuePlan:
    """Plan the queue. ``order``: indices into ``pool_ids`` (every unlabeled task), most wanted first.

    The unlabeled evaluation tasks (those of ``eval_ids`` in the pool) are queued in ``eval_order``, whatever
    ``order`` says about them; the other tasks in ``order``'s order.
    """
    ordered = np.asarray(pool_ids)[np.asarray(order, dtype=np.intp)].tolist()
    eval_set = {int(t) for t in eval_ids}
    in_pool = {int(t) for t in np.asarray(pool_ids).tolist()}
    eval_queue = [t for t in eval_order(eval_ids) if t in in_pool]
    rest = [t for t in ordered if t not in eval_set]
    merged = interleave(eval_queue, rest, eval_every)
    n = len(merged)
    limit = len(rest) if upload_top == 0 else upload_top
    uploads, taken = [], 0
    for position, (task_id, is_eval) in enumerate(merged):
        if not is_eval:
            if taken >= limit:
                continue
            taken += 1
        uploads.append((task_id, position / max(n, 1), is_eval))
    return QueuePlan(tuple(uploads), n, len(eval_queue))
