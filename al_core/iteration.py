"""One active-learning iteration, end to end, as one function with a progress callback.

read tasks -> labels -> train -> evaluate -> score the whole pool -> query-strategy order -> upload the
predictions the queue needs -> switch Label Studio's model version -> record. Every step is timed; a
failure is recorded as failed and leaves Label Studio's ``model_version`` unchanged. A run that would learn
from exactly the labels (and tasks) of the last succeeded version is skipped right after the labels are read
(``status="skipped"``, nothing uploaded, its running record deleted) unless forced: no phantom versions.

This module owns the reading and writing: the project is read once (a model nobody chose is then chosen by its
number of classes), the history's earlier iterations once (``earlier.read_earlier``), and the model and the pool's
predictions are saved here; ``learning.scoring`` only computes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from al_core import settings as app_settings
from al_core.compute.engine import Engine, open_engine, scheduler_address
from al_core.context import IterationSettings, RunContext, read_project, resolve_model
from al_core.earlier import Earlier, eval_sample, read_earlier, unchanged_since
from al_core.earlier import before as read_before
from al_core.errors import ALError, LabelStudioError
from al_core.labelstudio import labels
from al_core.labelstudio.gateway import UNCERTAINTY_SAMPLING, Gateway
from al_core.labelstudio.label_config import LabelSpec, parse_label_config, prediction_result
from al_core.labelstudio.queue import EVAL_ORDER, QueuePlan, plan_queue
from al_core.labelstudio.records import Task
from al_core.labelstudio.task_cache import sync_tasks
from al_core.labelstudio.task_data import refuse_unreadable, task_text
from al_core.learning import embeddings, evaluation, models, scoring
from al_core.learning.memory import release_free_memory
from al_core.learning.scoring import PoolData, Scored
from al_core.progress import Progress, StepTimer
from al_core.reports.left_out import iteration_warnings, run_message
from al_core.store import versions
from al_core.store.history import History
from al_core.store.records import IterationRecord
from al_core.store.versions import model_path

__all__ = ["IterationResult", "IterationSettings", "run_iteration", "version_name"]


@dataclass(frozen=True)
class IterationResult:
    """What an iteration did and measured (also what ``iterate --json`` prints).

    ``status`` is ``succeeded``, or ``skipped`` when nothing changed since the last succeeded version (then
    ``model_version`` and ``metrics`` are that version's and nothing was trained or uploaded). ``labeling_url``
    opens the active-learning queue for annotators (None when nothing is queued). ``model`` is the model trained
    (of a skipped run: the last version's), ``model_by_classes`` the number of classes it was chosen for when
    nobody chose one (else None).
    """

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
    labeling_url: str | None = None
    warnings: list[str] = field(default_factory=list)  # what was left out, in sentences (also in counts)
    model: str | None = None
    model_by_classes: int | None = None

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
    force: bool = False,
) -> IterationResult:
    """Run one iteration on a project and record it.

    With no new or changed label (and no new task) since the last succeeded version, nothing is trained,
    uploaded or recorded: the result says ``status="skipped"`` and why. ``force`` runs anyway.

    Raises:
        ConfigError: ``history`` belongs to another server than ``gateway`` (nothing is read or recorded).
        AuthenticationFailed, NotFound: the key or the project is wrong (nothing is recorded).
        IterationLocked: another iteration holds the project's run lock (nothing is recorded).
        ALError: the iteration failed; it is recorded as failed and the queue is unchanged.
    """
    history.check_server(gateway.url)  # one server's history only: its project ids are not another's
    project = read_project(gateway, project_id)
    settings = resolve_model(settings or IterationSettings(), project)  # recorded with the model it will train
    try:
        with history.run_lock(project_id, owner or settings.trigger) as lock:

            def context(timer: StepTimer) -> RunContext:
                if isinstance(project, LabelStudioError):
                    raise project
                return RunContext(gateway, history, project, settings, timer, lock.heartbeat, force)

            return _run_recorded(history, project_id, settings, on_progress, context)
    finally:
        release_free_memory()  # the pool's arrays are garbage now: give their pages back (long-lived servers)


def _run_recorded(
    history: History,
    project_id: int,
    settings: IterationSettings,
    on_progress: Progress | None,
    context: Callable[[StepTimer], RunContext],
) -> IterationResult:
    """The iteration under its lock, recorded as started (the running step stored as it changes), then as
    succeeded or failed."""
    record = history.start_iteration(project_id, None, settings.to_json(), settings.trigger)
    timer = StepTimer(history.step_recorder(record.id, on_progress))

    def name(n_labeled: int) -> str:
        version = version_name(record.number, n_labeled)
        history.name_version(record.id, version)
        return version

    try:
        result = _iterate(context(timer), name)
    except ALError as err:
        history.finish_iteration(record.id, status="failed", error=str(err), timings=timer.timings)
        raise
    except BaseException as err:  # a bug, or the page was interrupted: still recorded, then re-raised
        error = f"{type(err).__name__}: {err}" if isinstance(err, Exception) else "interrupted"
        history.finish_iteration(record.id, status="failed", error=error, timings=timer.timings)
        raise
    if result.status == "skipped":  # nothing made: no record remains (its number goes to the next run)
        history.discard_iteration(record.id)
        return IterationResult(**{**result.to_json(), "timings": timer.timings})
    with timer.step("record", "Recording the iteration"):
        version = result.model_version
        history.finish_iteration(
            record.id,
            status="succeeded",
            model_version=result.model_version,
            counts=result.counts,
            metrics=result.metrics,
            uncertainty=result.uncertainty,
            artifact_path=None if result.cold_start else str(model_path(history.server, project_id, version)),
            predictions_state="kept" if result.n_predictions else "none",
        )
    timings = {**result.timings, **timer.timings}
    history.finish_iteration(record.id, status="succeeded", timings=timings)
    return IterationResult(**{**result.to_json(), "timings": timings})


def version_name(number: int, n_labeled: int) -> str:
    """``al-0007-n350``: unique per project, sorts in order, says how many labels it learned from."""
    return f"{versions.VERSION_PREFIX}{number:04d}-n{n_labeled}"


def _read(ctx: RunContext) -> tuple[PoolData, dict[str, Any]]:
    """The pool and the labels as Label Studio has them now, split into training and evaluation parts."""
    project, timer = ctx.project, ctx.timer
    with timer.step("read", "Reading tasks and annotations from Label Studio"):
        spec = parse_label_config(project.label_config, ctx.settings.control)
        all_tasks, sync = sync_tasks(
            ctx.gateway,
            project.id,
            project.task_number,
            on_progress=lambda d, t: timer.report("read", d / max(t, 1), f"{d:,} of {t:,} tasks"),
        )
        annotated = ctx.gateway.labeled_tasks(project.id)
    with timer.step("labels", "Turning annotations into labels"):
        labeled_set = labels.from_annotations(annotated, spec)
        done_ids = {t.id for t in annotated if any(not a.was_cancelled for a in t.annotations)}
        pool, missing = _pool(all_tasks, done_ids, spec)
        refuse_unreadable(spec, len(all_tasks), labeled_set.n + len(pool), labeled_set.missing_text + missing)
        eval_ids = _eval_set(ctx, [t.id for t in all_tasks])
        eval_set = set(eval_ids)
        training = labeled_set.subset(lambda tid: tid not in eval_set)
        eval_labeled = labeled_set.subset(lambda tid: tid in eval_set)
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
        "no_usable_label": len(done_ids) - labeled_set.n - labeled_set.missing_text,
        "tasks_fetched": sync.fetched,
        "full_sync": sync.full,
        "multi_label": spec.multiple,
    }
    pool_ids = np.array([t.id for t, _ in pool], dtype=np.int64)
    return PoolData(spec, training, eval_labeled, pool_ids, [text for _, text in pool], eval_ids), counts


def _eval_set(ctx: RunContext, task_ids: list[int]) -> tuple[int, ...]:
    """The project's evaluation set, drawn and stored at its first iteration that sees tasks."""
    eval_ids = ctx.history.eval_set(ctx.project_id)
    if eval_ids or not task_ids:
        return eval_ids
    size = ctx.settings.eval_size
    size = evaluation.default_eval_size(len(task_ids)) if size is None else size
    ctx.history.save_eval_set(ctx.project_id, evaluation.choose_eval_set(task_ids, size, ctx.settings.random_state))
    return ctx.history.eval_set(ctx.project_id)


def _pool(all_tasks: list[Task], done_ids: set[int], spec: LabelSpec) -> tuple[list[tuple[Task, str]], int]:
    pool, missing = [], 0
    for task in all_tasks:
        if task.id in done_ids:
            continue
        text = task_text(task.data, spec)
        if text is None:
            missing += 1
        else:
            pool.append((task, text))
    return pool, missing


def _embed(ctx: RunContext, data: PoolData, engine: Engine) -> dict[str, int]:
    """Sentence vectors of every task read, from the project's embedding cache where the text is unchanged (the
    others embedded by ``engine``, in this process or on a Dask cluster).

    Returns ``{"n_embedded", "n_embed_cached"}``; empty when the model does not embed. Afterwards fitting
    and scoring embed nothing."""
    model, params = ctx.settings.model, ctx.settings.model_params
    if not models.uses_embeddings(model):
        return {}
    encoder = models.resolve_params(model, params)["encoder"]
    ids = [*data.pool_ids.tolist(), *data.training.task_ids, *data.eval_labeled.task_ids]
    texts = [*data.pool_texts, *data.training.texts, *data.eval_labeled.texts]
    path = embeddings.cache_path(
        app_settings.cache_dir(), embeddings.project_scope(ctx.gateway.url, ctx.project_id), encoder
    )
    with ctx.timer.step("embed", f"Embedding {len(texts):,} texts with {encoder} (only new or changed ones)"):
        done = embeddings.embed_tasks(
            path,
            ids,
            texts,
            encoder=encoder,
            on_progress=lambda d, t: ctx.timer.report("embed", d / max(t, 1), f"{d:,} of {t:,} new or changed texts"),
            fill=functools.partial(engine.fill, encoder),
        )
    return {"n_embedded": done.n_embedded, "n_embed_cached": done.n_cached}


def _score(ctx: RunContext, data: PoolData, version: str, earlier: Earlier, fingerprint: str, engine: Engine) -> Scored:
    """A cold start, or train and score (the pool scored by ``engine``); the model and the pool's predictions are
    kept for later versions."""
    if len(data.training.classes) < 2:
        return scoring.cold_start(data, ctx.settings.scoring, ctx.timer.step)
    server = ctx.history.server
    before = read_before(server, ctx.project_id, earlier, fingerprint)

    def predict(model: models.FittedModel, texts: list[str]) -> np.ndarray:
        progress = lambda d, t: ctx.timer.report("score", d / max(t, 1), f"{d:,} of {t:,} tasks scored")  # noqa: E731
        return engine.predict_proba(model, texts, on_progress=progress)

    scored = scoring.train_and_score(data, ctx.settings.scoring, before, ctx.timer.step, predict=predict)
    # Timed as part of the strategy step: the chart of step timings has one bar per step of progress.STEPS.
    with ctx.timer.step("strategy", f"Keeping {version}'s model and the pool's predictions"):
        models.save_model(scored.model, model_path(server, ctx.project_id, version))
        labeled_ids = np.array(data.training.task_ids + data.eval_labeled.task_ids, dtype=np.int64)
        pool = versions.PoolPredictions(data.pool_ids, scored.headlines, labeled_ids)
        versions.save_pool_predictions(server, ctx.project_id, version, pool)
    return scored


def _iterate(ctx: RunContext, name: Callable[[int], str]) -> IterationResult:
    data, counts = _read(ctx)
    fingerprint = labels.fingerprint(data.training, data.eval_labeled)  # type: ignore[arg-type]
    earlier = read_earlier(ctx.history, ctx.project_id)
    last = unchanged_since(earlier, fingerprint, counts["n_tasks"])
    if last is not None and not ctx.force:
        return _skipped(ctx, data, last)
    ctx.heartbeat()
    version = name(data.training.n)
    with open_engine(scheduler_address(ctx.settings.dask_scheduler)) as engine:  # ComputeError: nothing uploaded
        embedded = {**_embed(ctx, data, engine), "compute": engine.where}
        scored = _score(ctx, data, version, earlier, fingerprint, engine)
    ctx.heartbeat()
    plan = plan_queue(
        pool_ids=data.pool_ids,
        order=scored.order,
        eval_ids=data.eval_ids,
        upload_top=ctx.settings.upload_top,
        eval_every=ctx.settings.eval_every,
    )
    n_predictions = _upload(ctx, version, data, scored, plan)
    ctx.heartbeat()
    labeling_url = None
    with ctx.timer.step("switch", f"Switching Label Studio's queue to {version}"):
        if n_predictions:
            ctx.gateway.set_model_version(ctx.project_id, version)
            labeling_url = _labeling_url(ctx)
            if ctx.project.sampling != UNCERTAINTY_SAMPLING:
                ctx.gateway.set_sampling(ctx.project_id, UNCERTAINTY_SAMPLING)
    message = run_message(scored.message, scored.model is None, n_predictions, len(plan.uploads))
    cold = scored.model is None
    counts = {**counts, **embedded, "n_scored": scored.n_scored, "n_predictions": n_predictions, "cold_start": cold}
    counts.update(label_fingerprint=fingerprint, eval_order=EVAL_ORDER)
    metrics = {**scored.metrics, "eval_sample": eval_sample(earlier, data.eval_labeled.n)} if scored.metrics else {}
    counts["predictions_left_out"] = len(plan.uploads) - n_predictions  # their tasks were deleted during the run
    counts["prediction_import"] = ctx.gateway.prediction_import_mode(ctx.project_id) if n_predictions else None
    counts["warnings"] = iteration_warnings(counts)
    return IterationResult(
        project_id=ctx.project_id,
        model_version=version,
        status="succeeded",
        message=message.strip(),
        n_labeled=data.training.n,
        n_unlabeled=len(data.pool_ids),
        n_scored=scored.n_scored,
        n_predictions=n_predictions,
        n_eval=len(data.eval_ids),
        n_eval_labeled=data.eval_labeled.n,
        cold_start=cold,
        metrics=metrics,
        uncertainty=scored.uncertainty,
        timings=dict(ctx.timer.timings),
        counts=counts,
        consider_stopping=bool(scored.uncertainty.get("consider_stopping", False)),
        labeling_url=labeling_url,
        warnings=counts["warnings"],
        model=ctx.settings.model,
        model_by_classes=ctx.settings.model_by_classes,
    )


def _labeling_url(ctx: RunContext) -> str:
    """The link annotators start from: the project's tab ordered by the current version's score (created or
    repaired here), so the stream serves the lowest score first however the annotator's browser opens it."""
    return ctx.gateway.labeling_url(ctx.project_id, ctx.gateway.queue_view(ctx.project_id))


def _skipped(ctx: RunContext, data: PoolData, last: IterationRecord) -> IterationResult:
    """The result of a run that found nothing new: the last version stays, and the queue link still works."""
    return IterationResult(
        project_id=ctx.project_id,
        model_version=last.model_version,
        status="skipped",
        message=(
            f"Nothing to do: no new labels since {last.model_version}, which learned from the same labels; "
            "no version was made and the queue is unchanged. Label more tasks, or force a run to retrain anyway."
        ),
        n_labeled=data.training.n,
        n_unlabeled=len(data.pool_ids),
        n_scored=0,
        n_predictions=0,
        n_eval=len(data.eval_ids),
        n_eval_labeled=data.eval_labeled.n,
        cold_start=bool(last.counts.cold_start),
        metrics=last.metrics.to_json(),
        uncertainty={},
        timings=dict(ctx.timer.timings),
        counts={},
        labeling_url=_labeling_url(ctx) if ctx.project.model_version else None,
        model=last.settings.model,
        model_by_classes=last.settings.model_by_classes,
    )


def _upload(ctx: RunContext, version: str, data: PoolData, scored: Scored, plan: QueuePlan) -> int:
    position = {int(tid): i for i, tid in enumerate(data.pool_ids.tolist())}
    predictions = []
    for task_id, score, is_eval in plan.uploads:
        result: list[dict[str, Any]] = []
        if not is_eval and scored.predicted[position[task_id]]:
            # Evaluation tasks carry no pre-annotation: a shown model answer would anchor the person.
            result = prediction_result(data.spec, scored.predicted[position[task_id]])
        predictions.append({"task": task_id, "result": result, "score": float(score), "model_version": version})
    with ctx.timer.step("upload", f"Uploading {len(predictions):,} predictions"):
        return ctx.gateway.import_predictions(
            ctx.project_id,
            predictions,
            on_progress=lambda d, t: ctx.timer.report("upload", d / max(t, 1), f"{d:,} of {t:,} predictions"),
        )
