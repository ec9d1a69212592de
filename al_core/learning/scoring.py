"""Train, evaluate honestly and score the whole unlabeled pool (or pick a cold-start batch).

Pure engine work between reading Label Studio and writing to it: no network calls here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from al_core import settings as app_settings
from al_core.labelstudio.label_config import LabelSpec
from al_core.labelstudio.labels import LabeledSet
from al_core.learning import embeddings, evaluation, models, strategies
from al_core.progress import StepTimer
from al_core.store import versions
from al_core.store.history import History

COLD_START_BATCH = 50


@dataclass(frozen=True)
class PoolData:
    """What one iteration read: the spec, training and evaluation labels, and the unlabeled pool."""

    spec: LabelSpec
    training: LabeledSet
    eval_labeled: LabeledSet
    pool_ids: np.ndarray
    pool_texts: list[str]
    eval_ids: tuple[int, ...]
    counts: dict[str, Any]


@dataclass(frozen=True)
class Scored:
    """The pool's serving order (indices into the pool, most wanted first) and what was measured."""

    order: np.ndarray
    predicted: tuple[Any, ...]  # predicted label per pool task ("" when there is no model)
    n_scored: int
    metrics: dict[str, Any]
    uncertainty: dict[str, Any]
    message: str


def embed(server_url: str, project_id: int, data: PoolData, model: str, params: dict, timer: StepTimer) -> dict:
    """Sentence vectors of every task read (pool, training and evaluation labels), from the project's
    embedding cache where the text is unchanged. Returns counts ``{"n_embedded", "n_embed_cached"}``;
    empty when ``model`` does not embed. Afterwards fitting and scoring embed nothing."""
    if not models.uses_embeddings(model):
        return {}
    encoder = models.resolve_params(model, params)["encoder"]
    ids = [*data.pool_ids.tolist(), *data.training.task_ids, *data.eval_labeled.task_ids]
    texts = [*data.pool_texts, *data.training.texts, *data.eval_labeled.texts]
    scope = f"{server_url.rstrip('/')}|project-{project_id}"
    path = embeddings.cache_path(app_settings.cache_dir(), scope, encoder)
    with timer.step("embed", f"Embedding {len(texts):,} texts with {encoder} (only new or changed ones)"):
        done = embeddings.embed_tasks(
            path,
            ids,
            texts,
            encoder=encoder,
            on_progress=lambda d, t: timer.report("embed", d / max(t, 1), f"{d:,} of {t:,} new or changed texts"),
        )
    return {"n_embedded": done.n_embedded, "n_embed_cached": done.n_cached}


def cold_start(data: PoolData, random_state: int, timer: StepTimer, model: str = models.DEFAULT_MODEL) -> Scored:
    """No model yet (fewer than two classes labeled): a diverse, typical first batch."""
    with timer.step("strategy", "Cold start: choosing a diverse first batch"):
        n = len(data.pool_texts)
        order = np.zeros(0, dtype=np.intp)
        if n:
            features = models.vectorize_for_diversity(data.pool_texts, random_state=random_state, model=model)
            order = strategies.cold_start_order(
                features, batch_size=min(COLD_START_BATCH, n), random_state=random_state
            )
    seen = ", ".join(data.training.classes) or "none"
    message = (
        f"Cold start: the training labels cover fewer than two classes (seen: {seen}), so there is no model yet. "
        "The queue now serves a diverse first batch and the evaluation set; label tasks of at least two "
        "classes and run the next iteration."
    )
    return Scored(order, ("",) * n, 0, {}, {}, message)


def _predicted_labels(proba: np.ndarray, classes: tuple[str, ...], multi_label: bool) -> tuple[Any, ...]:
    if not multi_label:
        return tuple(classes[i] for i in np.argmax(proba, axis=1)) if len(proba) else ()
    chosen = proba >= 0.5
    chosen[np.arange(proba.shape[0]), np.argmax(proba, axis=1)] = True
    return tuple(tuple(c for c, keep in zip(classes, row, strict=True) if keep) for row in chosen)


def _headline(label: Any) -> str:
    return label if isinstance(label, str) else "|".join(label)


def train_and_score(
    project_id: int,
    version: str,
    data: PoolData,
    settings: Any,
    timer: StepTimer,
    history: History,
) -> Scored:
    """Fit the model, measure it on the evaluation set, score every unlabeled task and order the pool."""
    multi = data.spec.multiple
    with timer.step("train", f"Training {settings.model} on {data.training.n:,} labels"):
        model = models.fit_model(
            settings.model,
            data.training.texts,
            data.training.labels,
            params=settings.model_params,
            multi_label=multi,
            random_state=settings.random_state,
        )
        models.save_model(model, versions.model_path(project_id, version))
    with timer.step("evaluate", f"Evaluating on {data.eval_labeled.n:,} evaluation-set labels"):
        metrics = _metrics(model, data, settings)
    with timer.step("score", f"Scoring {len(data.pool_texts):,} unlabeled tasks"):
        proba = (
            model.predict_proba(data.pool_texts) if data.pool_texts else np.zeros((0, len(model.classes)), np.float32)
        )
        predicted = _predicted_labels(proba, model.classes, multi)
    with timer.step("strategy", f"Ordering the pool by {settings.strategy}"):
        info = strategies.informativeness(
            settings.strategy, proba, multi_label=multi, random_state=settings.random_state
        )
        if settings.diversity and len(info) > 1:
            order = strategies.diverse_order(
                info, model.features(data.pool_texts), batch_size=20, random_state=settings.random_state
            )
        else:
            order = np.argsort(-info, kind="stable")
        uncertainty = _uncertainty(project_id, version, data, info, proba, predicted, multi, history)
        metrics["live_agreement"], metrics["n_live"] = _live_agreement(project_id, data, history)
    n_eval = data.eval_labeled.n
    acc = metrics.get("accuracy")
    shown = (
        f"{acc:.1%} accuracy on {n_eval} evaluation-set labels" if acc is not None else "no evaluation-set labels yet"
    )
    message = f"Trained {settings.model} on {data.training.n:,} labels: {shown}."
    return Scored(order, predicted, len(info), metrics, uncertainty, message)


def _metrics(model: models.FittedModel, data: PoolData, settings: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data.eval_labeled.n:
        predicted = model.predict(list(data.eval_labeled.texts))
        measured = evaluation.measure(
            list(data.eval_labeled.labels), predicted, data.spec.labels, multi_label=data.spec.multiple
        )
        if measured is not None:
            out.update(measured.to_dict())
    out["cv_accuracy"] = evaluation.cross_val_accuracy(
        settings.model,
        list(data.training.texts),
        list(data.training.labels),
        params=settings.model_params,
        multi_label=data.spec.multiple,
        random_state=settings.random_state,
    )
    out["train_class_counts"] = _class_counts(data.training.labels)
    return out


def _class_counts(labels: tuple[Any, ...]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for label in labels:
        for one in (label,) if isinstance(label, str) else label:
            counts[one] = counts.get(one, 0) + 1
    return counts


def _previous_pool(project_id: int, history: History) -> versions.PoolPredictions | None:
    done = history.succeeded(project_id)
    for record in reversed(done):
        pool = versions.load_pool_predictions(project_id, record.model_version)
        if pool is not None:
            return pool
    return None


def _uncertainty(
    project_id: int,
    version: str,
    data: PoolData,
    info: np.ndarray,
    proba: np.ndarray,
    predicted: tuple[Any, ...],
    multi: bool,
    history: History,
) -> dict[str, Any]:
    summary = evaluation.summarize_uncertainty(info, proba, multi_label=multi).to_dict() if len(info) else {}
    heads = tuple(_headline(p) for p in predicted)
    previous = _previous_pool(project_id, history)
    changed, kappa = (None, None)
    if previous is not None:
        changed, kappa = evaluation.prediction_stability(
            previous.as_dict(), dict(zip(data.pool_ids.tolist(), heads, strict=True))
        )
    earlier = [it.uncertainty.kappa for it in history.succeeded(project_id)]
    summary.update(
        changed_share=changed,
        kappa=kappa,
        consider_stopping=evaluation.should_stop([*earlier, kappa]) if kappa is not None else False,
        predicted_class_counts=_class_counts(heads),
    )
    labeled_ids = np.array(data.training.task_ids + data.eval_labeled.task_ids, dtype=np.int64)
    versions.save_pool_predictions(project_id, version, versions.PoolPredictions(data.pool_ids, heads, labeled_ids))
    return summary


def _live_agreement(project_id: int, data: PoolData, history: History) -> tuple[float | None, int]:
    """How often the previous version's prediction matched the person, on tasks labeled since then."""
    previous = _previous_pool(project_id, history)
    if previous is None:
        return None, 0
    known = set(previous.labeled_ids.tolist())
    human = {
        tid: _headline(label)
        for tid, label in zip(
            data.training.task_ids + data.eval_labeled.task_ids,
            data.training.labels + data.eval_labeled.labels,
            strict=True,
        )
        if tid not in known
    }
    return evaluation.agreement(previous.as_dict(), human)
