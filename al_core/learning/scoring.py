"""Train, evaluate honestly and score the whole unlabeled pool (or pick a cold-start batch).

Pure: labeled texts, the pool's texts and typed settings in, a typed ``Scored`` out. Nothing here reads
the history, the network or a file, or writes one; the orchestration (``al_core.iteration``) saves the
model and the pool's predictions, and hands in what the previous version predicted as ``Before``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from al_core.learning import evaluation, models, stopping, strategies

Step = Callable[[str, str], AbstractContextManager[Any]]  # (step name, message): times a step (StepTimer.step)
Predict = Callable[[models.FittedModel, list[str]], np.ndarray]  # (model, texts) -> probabilities (n_texts, n_classes)


def no_step(_name: str, _message: str) -> AbstractContextManager[None]:
    return nullcontext()


@dataclass(frozen=True)
class ScoringSettings:
    """What scoring needs of an iteration's settings (``IterationSettings.scoring``)."""

    model: str
    model_params: Mapping[str, Any]
    strategy: str
    diversity: bool
    random_state: int


class LabelSetup(Protocol):
    """What scoring needs of a labeling config: the class names, and whether a task takes several."""

    @property
    def labels(self) -> tuple[str, ...]: ...

    @property
    def multiple(self) -> bool: ...


class Examples(Protocol):
    """Labeled texts, aligned: one task id, text and label (a str, or a tuple of str) per example."""

    @property
    def task_ids(self) -> tuple[int, ...]: ...

    @property
    def texts(self) -> tuple[str, ...]: ...

    @property
    def labels(self) -> tuple[Any, ...]: ...

    @property
    def n(self) -> int: ...

    @property
    def classes(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class PoolData:
    """What one iteration read: the label setup (a ``LabelSpec``), training and evaluation labels (``LabeledSet``s)
    and the unlabeled pool. Typed by protocols, so learning code needs nothing from Label Studio's side."""

    spec: LabelSetup
    training: Examples
    eval_labeled: Examples
    pool_ids: np.ndarray
    pool_texts: list[str]
    eval_ids: tuple[int, ...]


@dataclass(frozen=True)
class Before:
    """What the versions before this one left: the last scored pool's predictions and every kappa so far."""

    predicted: Mapping[int, str] | None = None  # task id -> predicted label (``headline``); None: nothing scored
    labeled_ids: frozenset[int] = frozenset()  # the tasks that version had labels for
    kappas: tuple[float | None, ...] = ()  # per earlier succeeded version, oldest first


@dataclass(frozen=True)
class Scored:
    """The pool's serving order (indices into the pool, most wanted first) and what was measured."""

    order: np.ndarray
    predicted: tuple[Any, ...]  # predicted label per pool task ("" when there is no model)
    n_scored: int
    metrics: dict[str, Any]
    uncertainty: dict[str, Any]
    message: str
    model: models.FittedModel | None = field(default=None, repr=False)  # None at a cold start

    @property
    def headlines(self) -> tuple[str, ...]:
        """The predicted labels as one string each (multi-label: joined with ``|``)."""
        return tuple(headline(p) for p in self.predicted)


def headline(label: Any) -> str:
    return label if isinstance(label, str) else "|".join(label)


def cold_start(data: PoolData, settings: ScoringSettings, step: Step = no_step) -> Scored:
    """No model yet (fewer than two classes labeled): a diverse, typical first batch."""
    with step("strategy", "Cold start: choosing a diverse first batch"):
        n = len(data.pool_texts)
        order = np.zeros(0, dtype=np.intp)
        if n:
            features = models.vectorize_for_diversity(
                data.pool_texts, random_state=settings.random_state, model=settings.model
            )
            order = strategies.cold_start_order(
                features, batch_size=min(strategies.COLD_START_BATCH, n), random_state=settings.random_state
            )
    seen = ", ".join(data.training.classes) or "none"
    message = f"Cold start: the training labels cover fewer than two classes (seen: {seen}), so there is no model yet."
    return Scored(order, ("",) * n, 0, {}, {}, message)


def train_and_score(
    data: PoolData, settings: ScoringSettings, before: Before, step: Step = no_step, predict: Predict | None = None
) -> Scored:
    """Fit the model, measure it on the evaluation set, score every unlabeled task and order the pool.

    ``predict(model, texts)`` scores the pool (default ``model.predict_proba``; e.g. in chunks on a Dask cluster)."""
    multi = data.spec.multiple
    with step("train", f"Training {settings.model} on {data.training.n:,} labels"):
        model = models.fit_model(
            settings.model,
            data.training.texts,
            data.training.labels,
            params=dict(settings.model_params),
            multi_label=multi,
            random_state=settings.random_state,
        )
    with step("evaluate", f"Evaluating on {data.eval_labeled.n:,} evaluation-set labels"):
        metrics = _metrics(model, data, settings)
        metrics["live_agreement"], metrics["n_live"] = _live_agreement(data, before)
    with step("score", f"Scoring {len(data.pool_texts):,} unlabeled tasks"):
        proba = (
            (predict or _predict)(model, data.pool_texts)
            if data.pool_texts
            else np.zeros((0, len(model.classes)), np.float32)
        )
        predicted = tuple(models.labels_from_proba(proba, model.classes, multi))
    with step("strategy", f"Ordering the pool by {settings.strategy}"):
        info = strategies.informativeness(
            settings.strategy, proba, multi_label=multi, random_state=settings.random_state
        )
        if settings.diversity and len(info) > 1:
            texts = data.pool_texts  # only the candidates' features are computed (not the whole pool's)
            order = strategies.diverse_order(
                info,
                lambda rows: model.features([texts[i] for i in rows]),
                batch_size=20,
                random_state=settings.random_state,
            )
        else:
            order = np.argsort(-info, kind="stable")
        uncertainty = _uncertainty(data, info, proba, predicted, multi, before)
    shown = evaluation.accuracy_sentence(metrics.get("accuracy"), data.eval_labeled.n, metrics.get("accuracy_ci"))
    message = f"Trained {settings.model} on {data.training.n:,} labels: {shown}."
    return Scored(order, predicted, len(info), metrics, uncertainty, message, model)


def _predict(model: models.FittedModel, texts: list[str]) -> np.ndarray:
    return model.predict_proba(texts)


def _metrics(model: models.FittedModel, data: PoolData, settings: ScoringSettings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data.eval_labeled.n:
        proba = model.predict_proba(list(data.eval_labeled.texts))
        predicted = models.labels_from_proba(proba, model.classes, data.spec.multiple)
        truth = list(data.eval_labeled.labels)
        measured = evaluation.measure(truth, predicted, data.spec.labels, multi_label=data.spec.multiple)
        if measured is not None:
            out.update(measured.to_dict())
            sure = evaluation.uncertainty(
                data.eval_labeled.task_ids,
                truth,
                predicted,
                proba.max(axis=1).tolist(),
                data.spec.labels,
                multi_label=data.spec.multiple,
                random_state=settings.random_state,
            )
            out.update(sure.to_dict())
    out["cv_accuracy"] = evaluation.cross_val_accuracy(
        settings.model,
        list(data.training.texts),
        list(data.training.labels),
        params=dict(settings.model_params),
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


def _uncertainty(
    data: PoolData,
    info: np.ndarray,
    proba: np.ndarray,
    predicted: tuple[Any, ...],
    multi: bool,
    before: Before,
) -> dict[str, Any]:
    summary = evaluation.summarize_uncertainty(info, proba, multi_label=multi).to_dict() if len(info) else {}
    heads = tuple(headline(p) for p in predicted)
    changed, kappa = (None, None)
    if before.predicted is not None:
        changed, kappa = evaluation.prediction_stability(
            before.predicted, dict(zip(data.pool_ids.tolist(), heads, strict=True))
        )
    summary.update(
        changed_share=changed,
        kappa=kappa,
        consider_stopping=stopping.should_stop([*before.kappas, kappa]) if kappa is not None else False,
        predicted_class_counts=_class_counts(heads),
    )
    return summary


def _live_agreement(data: PoolData, before: Before) -> tuple[float | None, int]:
    """How often the previous version's prediction matched the person, on tasks labeled since then."""
    if before.predicted is None:
        return None, 0
    human = {
        tid: headline(label)
        for tid, label in zip(
            data.training.task_ids + data.eval_labeled.task_ids,
            data.training.labels + data.eval_labeled.labels,
            strict=True,
        )
        if tid not in before.labeled_ids
    }
    return evaluation.agreement(before.predicted, human)
