"""One active-learning iteration, end to end, as one function with a progress callback.

read tasks -> labels -> train -> evaluate -> score the whole pool -> query-strategy order -> upload the
predictions the queue needs -> switch Label Studio's model version -> record. Every step is timed; a
failure is recorded as failed and leaves Label Studio's ``model_version`` unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from al_core.errors import ALError, AuthenticationFailed, ConfigError, LabelStudioError, NotFound
from al_core.labelstudio import labels
from al_core.labelstudio.gateway import UNCERTAINTY_SAMPLING, Gateway
from al_core.labelstudio.label_config import LabelSpec, parse_label_config, prediction_result
from al_core.labelstudio.queue import QueuePlan, plan_queue
from al_core.labelstudio.records import Task
from al_core.labelstudio.task_cache import sync_tasks
from al_core.learning import evaluation, models, strategies
from al_core.learning.memory import release_free_memory
from al_core.learning.scoring import PoolData, Scored, cold_start, embed, train_and_score
from al_core.progress import Progress, StepTimer
from al_core.store import versions
from al_core.store.history import History, IterationRecord


@dataclass(frozen=True)
class IterationSettings:
    """What one iteration does; every field has a sensible default."""

    model: str = field(default_factory=models.default_model)
    model_params: dict[str, Any] = field(default_factory=dict)
    strategy: str = strategies.DEFAULT_STRATEGY
    diversity: bool = True  # margin + diversity measured best with sentence embeddings (bench/README.md)
    upload_top: int = 1000  # 0 = a prediction for every unlabeled task
    eval_size: int | None = None  # None = about 10%, capped at 300
    eval_every: int = 5  # one evaluation task in every five served
    keep_versions: int = 3
    random_state: int = 0
    control: str | None = None
    trigger: str = "manual"

    def __post_init__(self) -> None:
        strategies.check_strategy(self.strategy)
        models.resolve_params(self.model, self.model_params)
        if isinstance(self.upload_top, bool) or not isinstance(self.upload_top, int) or self.upload_top < 0:
            raise ConfigError(f"The 'upload_top' parameter must be an int >= 0. Got {self.upload_top!r} instead.")
        if self.eval_every < 1:
            raise ConfigError(f"The 'eval_every' parameter must be an int >= 1. Got {self.eval_every!r} instead.")


@dataclass(frozen=True)
class IterationResult:
    """What an iteration did and measured (also what ``iterate --json`` prints)."""

    project_id: int
    model_version: str
    status: str
    message: str
    n_labeled: int
    n_unlabeled: int
    n_scored: int
    n_predictions: int
    n_eval: int
    n_eval_labeled: int
    cold_start: bool
    metrics: dict[str, Any]
    uncertainty: dict[str, Any]
    timings: dict[str, float]
    counts: dict[str, Any]
    consider_stopping: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_iteration(
    gateway: Gateway,
    history: History,
    project_id: int,
    settings: IterationSettings | None = None,
    *,
    on_progress: Progress | None = None,
    owner: str = "",
) -> IterationResult:
    """Run one iteration on a project and record it.

    Raises:
        IterationLocked: another iteration holds the project's run lock (nothing is recorded).
        ALError: the iteration failed; it is recorded as failed and the queue is unchanged.
    """
    settings = settings or IterationSettings()
    try:  # a wrong key or project fails here, before anything is recorded for a project one cannot see
        gateway.get_project(project_id)
    except (AuthenticationFailed, NotFound):
        raise
    except LabelStudioError:
        pass  # unreachable or failing server: the run below fails and is recorded as failed
    try:
        with history.run_lock(project_id, owner or settings.trigger) as lock:
            return _run_recorded(gateway, history, project_id, settings, on_progress, lock.heartbeat)
    finally:
        release_free_memory()  # the pool's arrays are garbage now: give their pages back (long-lived servers)


def _run_recorded(
    gateway: Gateway,
    history: History,
    project_id: int,
    settings: IterationSettings,
    on_progress: Progress | None,
    heartbeat: Callable[[], None],
) -> IterationResult:
    """The iteration under its lock, recorded as started, then as succeeded or failed."""
    record = history.start_iteration(project_id, None, _settings_json(settings), settings.trigger)
    timer = StepTimer(history.step_recorder(record.id, on_progress))
    try:
        result = _iterate(gateway, history, project_id, settings, timer, heartbeat, lambda n: _name(history, record, n))
    except ALError as err:
        history.finish_iteration(record.id, status="failed", error=str(err), timings=timer.timings)
        raise
    except BaseException as err:  # a bug, or the page was interrupted: still recorded, then re-raised
        error = f"{type(err).__name__}: {err}" if isinstance(err, Exception) else "interrupted"
        history.finish_iteration(record.id, status="failed", error=error, timings=timer.timings)
        raise
    with timer.step("record", "Recording the iteration"):
        history.finish_iteration(
            record.id,
            status="succeeded",
            model_version=result.model_version,
            counts=result.counts,
            metrics=result.metrics,
            uncertainty=result.uncertainty,
            artifact_path=str(versions.model_path(project_id, result.model_version)) if not result.cold_start else None,
            predictions_state="kept" if result.n_predictions else "none",
        )
    timings = {**result.timings, **timer.timings}
    history.finish_iteration(record.id, status="succeeded", timings=timings)
    return IterationResult(**{**result.to_json(), "timings": timings})


def _name(history: History, record: IterationRecord, n_labeled: int) -> str:
    """``al-0007-n350``: unique per project, sorts in order, says how many labels it learned from."""
    version = f"{versions.VERSION_PREFIX}{record.number:04d}-n{n_labeled}"
    history.name_version(record.id, version)
    return version


def _settings_json(settings: IterationSettings) -> dict[str, Any]:
    return asdict(settings)


def _read(
    gateway: Gateway, history: History, project_id: int, settings: IterationSettings, timer: StepTimer
) -> PoolData:
    with timer.step("read", "Reading tasks and annotations from Label Studio"):
        project = gateway.get_project(project_id)
        spec = parse_label_config(project.label_config, settings.control)
        all_tasks, sync = sync_tasks(
            gateway,
            project_id,
            project.task_number,
            on_progress=lambda d, t: timer.report("read", d / max(t, 1), f"{d:,} of {t:,} tasks"),
        )
        annotated = gateway.labeled_tasks(project_id)
    with timer.step("labels", "Turning annotations into labels"):
        labeled_set = labels.from_annotations(annotated, spec)
        done_ids = {t.id for t in annotated if any(not a.was_cancelled for a in t.annotations)}
        eval_ids = history.eval_set(project_id)
        if not eval_ids and all_tasks:
            size = (
                settings.eval_size if settings.eval_size is not None else evaluation.default_eval_size(len(all_tasks))
            )
            history.save_eval_set(
                project_id, evaluation.choose_eval_set([t.id for t in all_tasks], size, settings.random_state)
            )
            eval_ids = history.eval_set(project_id)
        eval_set = set(eval_ids)
        training = _subset(labeled_set, lambda tid: tid not in eval_set)
        eval_labeled = _subset(labeled_set, lambda tid: tid in eval_set)
        pool, missing = _pool(all_tasks, done_ids, spec)
    counts = {
        "n_tasks": len(all_tasks),
        "n_labeled": training.n,
        "n_eval": len(eval_ids),
        "n_eval_labeled": eval_labeled.n,
        "n_unlabeled": len(pool),
        "skipped": labeled_set.skipped,
        "unknown_labels": labeled_set.unknown_labels,
        "missing_text": labeled_set.missing_text + missing,
        "ground_truth_used": labeled_set.ground_truth_used,
        "tasks_fetched": sync.fetched,
        "full_sync": sync.full,
        "multi_label": spec.multiple,
    }
    pool_ids = np.array([t.id for t, _ in pool], dtype=np.int64)
    return PoolData(spec, training, eval_labeled, pool_ids, [text for _, text in pool], eval_ids, counts)


def _subset(ls: labels.LabeledSet, keep: Callable[[int], bool]) -> labels.LabeledSet:
    idx = [i for i, tid in enumerate(ls.task_ids) if keep(tid)]
    return labels.LabeledSet(
        task_ids=tuple(ls.task_ids[i] for i in idx),
        texts=tuple(ls.texts[i] for i in idx),
        labels=tuple(ls.labels[i] for i in idx),
        skipped=ls.skipped,
        unknown_labels=ls.unknown_labels,
        missing_text=ls.missing_text,
        ground_truth_used=ls.ground_truth_used,
    )


def _pool(all_tasks: list[Task], done_ids: set[int], spec: LabelSpec) -> tuple[list[tuple[Task, str]], int]:
    pool, missing = [], 0
    for task in all_tasks:
        if task.id in done_ids:
            continue
        text = labels.task_text(task.data, spec)
        if text is None:
            missing += 1
        else:
            pool.append((task, text))
    return pool, missing


def _iterate(
    gateway: Gateway,
    history: History,
    project_id: int,
    settings: IterationSettings,
    timer: StepTimer,
    heartbeat: Callable[[], None],
    name: Callable[[int], str],
) -> IterationResult:
    data = _read(gateway, history, project_id, settings, timer)
    heartbeat()
    version = name(data.training.n)
    embedded = embed(gateway.url, project_id, data, settings.model, settings.model_params, timer)
    cold = len(data.training.classes) < 2
    if cold:
        scored = cold_start(data, settings.random_state, timer, settings.model)
    else:
        scored = train_and_score(project_id, version, data, settings, timer, history)
    heartbeat()
    plan = plan_queue(
        pool_ids=data.pool_ids,
        order=scored.order,
        eval_ids=data.eval_ids,
        upload_top=settings.upload_top,
        eval_every=settings.eval_every,
    )
    n_predictions = _upload(gateway, project_id, version, data, scored, plan, timer)
    heartbeat()
    with timer.step("switch", f"Switching Label Studio's queue to {version}"):
        if n_predictions:
            gateway.set_model_version(project_id, version)
            if gateway.get_project(project_id).sampling != UNCERTAINTY_SAMPLING:
                gateway.set_sampling(project_id, UNCERTAINTY_SAMPLING)
    message = scored.message
    if not n_predictions:
        message += " Every task is labeled: nothing left to queue; import more tasks to continue."
    counts = {
        **data.counts,
        **embedded,
        "n_scored": int(scored.n_scored),
        "n_predictions": n_predictions,
        "cold_start": cold,
    }
    return IterationResult(
        project_id=project_id,
        model_version=version,
        status="succeeded",
        message=message.strip(),
        n_labeled=data.training.n,
        n_unlabeled=len(data.pool_ids),
        n_scored=int(scored.n_scored),
        n_predictions=n_predictions,
        n_eval=len(data.eval_ids),
        n_eval_labeled=data.eval_labeled.n,
        cold_start=cold,
        metrics=scored.metrics,
        uncertainty=scored.uncertainty,
        timings=dict(timer.timings),
        counts=counts,
        consider_stopping=bool(scored.uncertainty.get("consider_stopping", False)),
    )


def _upload(
    gateway: Gateway, project_id: int, version: str, data: PoolData, scored: Scored, plan: QueuePlan, timer: StepTimer
) -> int:
    position = {int(tid): i for i, tid in enumerate(data.pool_ids.tolist())}
    predictions = []
    for task_id, score, is_eval in plan.uploads:
        result: list[dict[str, Any]] = []
        if not is_eval and scored.predicted[position[task_id]]:
            # Evaluation tasks carry no pre-annotation: a shown model answer would anchor the person.
            result = prediction_result(data.spec, scored.predicted[position[task_id]])
        predictions.append({"task": task_id, "result": result, "score": float(score), "model_version": version})
    with timer.step("upload", f"Uploading {len(predictions):,} predictions"):
        return gateway.import_predictions(
            project_id,
            predictions,
            on_progress=lambda d, t: timer.report("upload", d / max(t, 1), f"{d:,} of {t:,} predictions"),
        )
