"""Active-learning iterations against the real Label Studio server, with a scripted annotator that takes
tasks from ``/next`` and answers with the sample dataset's gold labels."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.errors import IterationLocked
from al_core.iteration import IterationSettings, run_iteration
from al_core.lab.sample import GoldAnnotator, create_sample_project, sample_gold
from al_core.labelstudio.gateway import UNCERTAINTY_SAMPLING, Gateway
from al_core.labelstudio.queue import eval_order
from al_core.labelstudio.task_data import task_text
from al_core.learning import models, strategies
from al_core.settings import db_url
from al_core.store import versions
from al_core.store.history import History

K = 150


@pytest.fixture(scope="module")
def history(label_studio) -> History:
    return History(db_url(), server=label_studio.url)


@pytest.fixture(scope="module")
def played(gateway: Gateway, history: History):
    """A sample project after: cold start, 45 labels, iteration, 45 labels, iteration (K=150), 45 labels."""
    project = create_sample_project(gateway, "iteration test")
    annotator = GoldAnnotator(gateway, project.id, sample_gold().get)
    results = [run_iteration(gateway, history, project.id, IterationSettings(upload_top=K, diversity=False))]
    served_first = []
    for _ in range(2):
        served_first.append(annotator.label(45))
        results.append(run_iteration(gateway, history, project.id, IterationSettings(upload_top=K, diversity=False)))
    served_first.append(annotator.label(45))
    return project, annotator, results, served_first


def test_cold_start_then_model_versions(played, gateway: Gateway) -> None:
    project, _, results, _ = played
    cold, first, second = results
    assert cold.cold_start and cold.n_scored == 0 and "Cold start" in cold.message
    assert not first.cold_start and not second.cold_start
    assert [r.model_version for r in results] == [
        "al-0001-n0",
        f"al-0002-n{first.n_labeled}",
        f"al-0003-n{second.n_labeled}",
    ]
    stored = gateway.get_project(project.id)
    assert stored.model_version == second.model_version
    assert stored.sampling == UNCERTAINTY_SAMPLING


def test_every_unlabeled_task_is_scored(played, gateway: Gateway) -> None:
    project, _, results, _ = played
    second = results[-1]
    assert second.n_scored == second.n_unlabeled
    assert second.n_unlabeled + second.n_labeled + second.n_eval_labeled == 2250


def test_uploads_are_the_k_most_informative_plus_unlabeled_eval_tasks(
    played, gateway: Gateway, history: History
) -> None:
    project, _, results, served = played
    second = results[-1]
    preds = {p.task: p for p in gateway.list_predictions(project.id, second.model_version)}
    eval_ids = set(history.eval_set(project.id))
    labeled_since = set(served[-1])  # labeled after this iteration ran
    labeled = {t.id for t in gateway.list_tasks(project.id, labeled=True)} - labeled_since
    unlabeled_eval = eval_ids - labeled
    assert {t for t in preds if t in eval_ids} == unlabeled_eval
    assert all(preds[t].result == () for t in unlabeled_eval), "evaluation tasks must carry no pre-annotation"
    non_eval = {t for t in preds if t not in eval_ids}
    assert len(non_eval) == K
    assert all(preds[t].result for t in non_eval)

    # Recompute margin over the pool with the saved model: the K uploads are the K most informative.
    pool = [t for t in gateway.list_tasks(project.id) if t.id not in labeled]
    spec_tasks = [t for t in pool if t.id not in eval_ids]
    model = models.load_model(versions.model_path(gateway.url, project.id, second.model_version))
    texts = [t.data["text"] for t in spec_tasks]
    info = strategies.informativeness("margin", model.predict_proba(texts))
    top = {spec_tasks[i].id for i in np.argsort(-info, kind="stable")[:K]}
    assert non_eval == top


def test_next_serves_the_lowest_score_of_the_current_version(played, gateway: Gateway) -> None:
    project, _, results, _ = played
    unlabeled = {t.id for t in gateway.list_tasks(project.id, labeled=False)}
    preds = [p for p in gateway.list_predictions(project.id, results[-1].model_version) if p.task in unlabeled]
    served = gateway.next_task(project.id)
    assert served is not None
    assert served.id == min(preds, key=lambda p: p.score).task


def test_eval_tasks_are_served_early_and_never_trained_on(played, history: History) -> None:
    project, _, results, served = played
    eval_ids = set(history.eval_set(project.id))
    for batch in served[1:]:  # after the first model: one evaluation task in every five served
        share = sum(t in eval_ids for t in batch) / len(batch)
        assert 0.15 <= share <= 0.25
    for r in results[1:]:
        assert r.n_eval_labeled > 0
        assert r.counts["n_labeled"] == r.n_labeled  # training labels exclude the evaluation set
    assert results[-1].n_labeled + results[-1].n_eval_labeled == 90


def test_metrics_are_recorded_and_clearly_above_chance(played, history: History) -> None:
    project, _, results, _ = played
    records = {r.model_version: r for r in history.iterations(project.id)}
    last = records[results[-1].model_version]
    assert last.status == "succeeded"
    assert last.metrics.accuracy > 0.4  # 15 classes: chance is 0.067
    assert last.metrics.n_eval == results[-1].n_eval_labeled
    assert set(last.timings) >= {"read", "train", "evaluate", "score", "upload", "switch"}
    assert last.uncertainty.kappa is not None and last.metrics.live_agreement is not None


def test_upload_top_zero_uploads_every_unlabeled_task(played, gateway: Gateway, history: History) -> None:
    project, _, _, _ = played
    result = run_iteration(gateway, history, project.id, IterationSettings(upload_top=0))
    preds = gateway.list_predictions(project.id, result.model_version)
    unlabeled = {t.id for t in gateway.list_tasks(project.id, labeled=False)}
    assert {p.task for p in preds} == unlabeled
    assert result.n_predictions == len(unlabeled) == result.n_unlabeled


def test_a_second_run_while_one_holds_the_lock_is_refused(played, gateway: Gateway, history: History) -> None:
    project, _, _, _ = played
    before = len(history.iterations(project.id))
    with history.run_lock(project.id, "a teammate"), pytest.raises(IterationLocked, match="started by a teammate"):
        run_iteration(gateway, history, project.id, IterationSettings())
    assert len(history.iterations(project.id)) == before


def test_the_gold_annotator_answers_with_the_sample_labels(played, gateway: Gateway) -> None:
    project, annotator, _, _ = played
    gold = sample_gold()
    for task in gateway.labeled_tasks(project.id)[:20]:
        text = task_text(task.data, annotator.spec)
        assert task.annotations[0].result[0]["value"]["choices"] == [gold[text]]


def test_repeat_iterations_download_only_changed_tasks(played) -> None:
    _, _, results, _ = played
    assert results[0].counts["full_sync"] is True and results[0].counts["tasks_fetched"] == 2250
    for r in results[1:]:
        assert r.counts["full_sync"] is False
        assert r.counts["tasks_fetched"] == 45  # exactly the tasks annotated since the previous iteration


class CountingGateway(Gateway):
    def __init__(self, url: str, api_key: str) -> None:
        super().__init__(url, api_key)
        self.project_reads = 0

    def get_project(self, project_id: int):
        self.project_reads += 1
        return super().get_project(project_id)


class CountingHistory(History):
    def __init__(self, url: str, server: str) -> None:
        super().__init__(url, server=server)
        self.iteration_reads = 0

    def iterations(self, project_id: int):
        self.iteration_reads += 1
        return super().iterations(project_id)


def test_an_iteration_reads_the_project_and_the_earlier_iterations_once(played, label_studio) -> None:
    project, _, _, _ = played
    gateway, history = (
        CountingGateway(label_studio.url, label_studio.api_key),
        CountingHistory(db_url(), label_studio.url),
    )
    settings = IterationSettings(upload_top=20, diversity=False)
    result = run_iteration(gateway, history, project.id, settings, force=True)  # no label since the last run
    assert not result.cold_start and result.uncertainty["kappa"] is not None  # it compared with the previous version
    assert gateway.project_reads == 1
    assert history.iteration_reads == 1


def test_the_labeled_evaluation_tasks_are_a_prefix_of_the_sets_fixed_random_order(
    played, gateway: Gateway, history: History
) -> None:
    project, _, results, served = played
    eval_ids = history.eval_set(project.id)
    order = eval_order(eval_ids)
    labeled = {t.id for t in gateway.labeled_tasks(project.id)}
    labeled_eval = [t for t in order if t in labeled]
    assert len(labeled_eval) >= 15  # through /next: 45 + 45 + 45 labels, one in five from the evaluation set
    assert set(order[: len(labeled_eval)]) == set(labeled_eval), "a prefix of the fixed order, not the strategy's"
    # The last version queued the rest of the set in that order too (its scores rise along it).
    at_the_time = labeled - set(served[-1])
    queued = sorted(
        (p for p in gateway.list_predictions(project.id, results[-1].model_version) if p.task in set(eval_ids)),
        key=lambda p: p.score,
    )
    assert [p.task for p in queued] == [t for t in order if t not in at_the_time]
    assert history.get_iteration(project.id, results[-1].model_version).metrics.eval_sample == "random"
