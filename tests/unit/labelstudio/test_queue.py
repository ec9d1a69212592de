"""The queue plan: evaluation tasks interleaved early in their fixed random order (never the strategy's), the
pool in the strategy's order, scores that Label Studio serves lowest first, and only as many pool predictions
as ``upload_top`` asks for. Golden cases."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.labelstudio.queue import QueuePlan, eval_order, interleave, plan_queue

POOL = np.array([10, 11, 12, 13, 14, 15, 16])
REVERSED = np.array([6, 5, 4, 3, 2, 1, 0])  # the strategy wants 16 first, 10 last


@pytest.mark.parametrize(
    ("eval_ids", "rest", "every", "expected"),
    [
        (
            [7, 8],
            [1, 2, 3, 4, 5],
            2,
            [(7, True), (1, False), (8, True), (2, False), (3, False), (4, False), (5, False)],
        ),
        ([1, 2, 3], [9], 5, [(1, True), (9, False), (2, True), (3, True)]),  # the pool ran out: eval tasks follow
        ([], [4, 5], 2, [(4, False), (5, False)]),
        ([6], [], 3, [(6, True)]),
        ([], [], 5, []),
        ([7, 8, 9], [1, 2, 3, 4], 1, [(7, True), (8, True), (9, True), (1, False), (2, False), (3, False), (4, False)]),
    ],
)
def test_one_evaluation_task_in_every_eval_every_positions(eval_ids, rest, every, expected):
    assert interleave(eval_ids, rest, every) == expected


def test_numpy_ids_come_out_as_python_ints():
    merged = interleave(np.array([3]), np.array([4]), 5)
    assert merged == [(3, True), (4, False)] and all(type(task_id) is int for task_id, _ in merged)


def test_upload_top_limits_the_pool_but_every_evaluation_task_is_uploaded():
    plan = plan_queue(pool_ids=POOL, order=REVERSED, eval_ids=[13, 10, 99], upload_top=2, eval_every=3)
    # the set's fixed order is 10, 99, 13 (99 is labeled); the strategy would have served 13 before 10
    # serving order: 10 (eval), 16, 15, 13 (eval), 14, 12, 11; only the 2 most wanted pool tasks are uploaded
    assert plan == QueuePlan(
        uploads=((10, 0 / 7, True), (16, 1 / 7, False), (15, 2 / 7, False), (13, 3 / 7, True)),
        n_queue=7,
        n_eval_queued=2,  # 99 is labeled (not in the pool): it is not queued
    )


def test_upload_top_zero_uploads_the_whole_queue_with_rising_scores():
    plan = plan_queue(pool_ids=POOL, order=REVERSED, eval_ids=[13, 10], upload_top=0, eval_every=3)
    assert [task_id for task_id, _, _ in plan.uploads] == [10, 16, 15, 13, 14, 12, 11]
    assert [score for _, score, _ in plan.uploads] == [i / 7 for i in range(7)]
    assert [is_eval for _, _, is_eval in plan.uploads] == [True, False, False, True, False, False, False]
    assert (plan.n_queue, plan.n_eval_queued) == (7, 2)


def test_upload_top_larger_than_the_pool_uploads_all_of_it():
    plan = plan_queue(pool_ids=POOL[:3], order=np.array([2, 0, 1]), eval_ids=[], upload_top=50)
    assert plan == QueuePlan(((12, 0.0, False), (10, 1 / 3, False), (11, 2 / 3, False)), 3, 0)


def test_without_evaluation_tasks_the_order_is_the_strategys():
    plan = plan_queue(pool_ids=POOL, order=np.array([3, 0, 6]), eval_ids=[], upload_top=0)
    assert plan.uploads == ((13, 0.0, False), (10, 1 / 3, False), (16, 2 / 3, False))
    assert plan.n_queue == 3  # only the ordered tasks are queued


def test_an_empty_pool_plans_nothing():
    assert plan_queue(pool_ids=np.array([], dtype=int), order=np.array([], dtype=int), eval_ids=[5], upload_top=0) == (
        QueuePlan((), 0, 0)
    )


def test_only_evaluation_tasks_left():
    plan = plan_queue(pool_ids=np.array([21, 22]), order=np.array([1, 0]), eval_ids=[21, 22], upload_top=1)
    assert plan == QueuePlan(((21, 0.0, True), (22, 0.5, True)), 2, 2)  # the strategy wanted 22 first


# -- the evaluation set's fixed random order -----------------------------------------------------------------
def test_the_evaluation_order_is_a_fixed_permutation_of_the_set():
    assert eval_order([10, 11, 12, 13, 14, 15, 16]) == (15, 14, 10, 12, 16, 13, 11)
    assert eval_order([16, 13, 11, 10, 15, 12, 14, 13]) == (15, 14, 10, 12, 16, 13, 11)  # the set, not its order
    assert eval_order([]) == ()
    assert all(type(t) is int for t in eval_order(np.array([4, 2])))


def test_the_evaluation_order_is_not_sorted_and_depends_on_the_set():
    ids = list(range(100, 400))
    order = eval_order(ids)
    assert sorted(order) == ids and list(order) != ids and list(order) != ids[::-1]
    assert eval_order(ids[:-1]) != tuple(t for t in order if t != 399), "another set, another draw"


def test_the_strategy_cannot_reorder_the_evaluation_tasks():
    pool = np.arange(100, 160)
    eval_ids = list(range(100, 160, 3))
    served = []
    for order in (np.arange(60), np.arange(60)[::-1], np.random.default_rng(3).permutation(60)):
        plan = plan_queue(pool_ids=pool, order=order, eval_ids=eval_ids, upload_top=0, eval_every=5)
        served.append([task_id for task_id, _, is_eval in plan.uploads if is_eval])
    assert served[0] == served[1] == served[2] == list(eval_order(eval_ids))


def test_labeled_evaluation_tasks_leave_the_rest_in_the_same_order():
    eval_ids = list(range(1, 41))
    order = eval_order(eval_ids)
    labeled = set(order[:7])
    pool = np.array([t for t in range(1, 81) if t not in labeled])
    plan = plan_queue(pool_ids=pool, order=np.arange(len(pool)), eval_ids=eval_ids, upload_top=0, eval_every=2)
    assert [task_id for task_id, _, is_eval in plan.uploads if is_eval] == list(order[7:])
