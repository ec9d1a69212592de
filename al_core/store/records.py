"""Typed records of what an iteration did and measured, as the history store reads them back.

The store keeps each group as JSON; these frozen dataclasses are the only way the rest of the code sees them.
Every field that a running, failed or cold-start iteration (or a row written by an older engine) may lack is
optional: a missing, ``None`` or malformed value reads back as ``None`` (or an empty collection), never as a
crash. Keys this version does not know are kept in ``extra``, so nothing an older or newer engine wrote is lost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Self

from al_core.store.measured import EvalOutcome, Interval, read_interval, read_outcomes, wilson_of_stored

BIASED_SAMPLE_NOTE = "measured on a biased sample of the evaluation set (before the fix)"  # see biased_sample
LabelSet = tuple[str, ...]  # a predicted label set: one label (single-label) or several (multi-label)


def _int(value: Any) -> int | None:
    number = _float(value)
    return int(number) if number is not None and number == int(number) else None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return None if value is None or isinstance(value, Mapping | list | tuple) else str(value)


def _labels(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


def _numbers(value: Any, convert: Callable[[Any], Any]) -> tuple:
    """A list of numbers as a tuple; empty when any entry is not a number (the whole series is unusable)."""
    if not isinstance(value, list | tuple):
        return ()
    out = tuple(convert(v) for v in value)
    return () if any(v is None for v in out) else out


def _ints(value: Any) -> tuple[int, ...]:
    return _numbers(value, _int)


def _floats(value: Any) -> tuple[float, ...]:
    return _numbers(value, _float)


def _matrix(value: Any) -> tuple[tuple[int, ...], ...]:
    rows = tuple(_ints(row) for row in value) if isinstance(value, list | tuple) else ()
    return () if any(not row for row in rows) else rows


def _int_map(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): n for k, v in value.items() if (n := _int(v)) is not None}


def _float_map(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): x for k, v in value.items() if (x := _float(v)) is not None}


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _label_set_counts(value: Any) -> dict[LabelSet, int]:
    """The stored form ``[[["a", "b"], 3], ...]`` as ``{("a", "b"): 3}``."""
    if not isinstance(value, list | tuple):
        return {}
    out: dict[LabelSet, int] = {}
    for pair in value:
        if isinstance(pair, list | tuple) and len(pair) == 2 and (n := _int(pair[1])) is not None:
            key = _labels(pair[0])
            out[key] = out.get(key, 0) + n
    return out


# Field annotation -> how a stored JSON value becomes that type.
_READERS: dict[str, Callable[[Any], Any]] = {
    "int | None": _int,
    "float | None": _float,
    "bool | None": _bool,
    "str | None": _str,
    "tuple[str, ...]": _labels,
    "tuple[int, ...]": _ints,
    "tuple[float, ...]": _floats,
    "tuple[tuple[int, ...], ...]": _matrix,
    "Mapping[str, int]": _int_map,
    "Mapping[str, float]": _float_map,
    "Mapping[str, Any]": _mapping,
    "Mapping[LabelSet, int]": _label_set_counts,
    "Interval | None": read_interval,
    "Mapping[int, EvalOutcome]": read_outcomes,
}


def _json(value: Any) -> Any:
    if isinstance(value, Mapping) and any(isinstance(k, tuple) for k in value):
        return [[list(k), v] for k, v in value.items()]
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


class _Stored:
    """JSON in and out for a record whose fields are all optional, plus ``extra`` for unknown keys."""

    extra: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """Read a stored JSON object; unknown keys go to ``extra``, anything that is not an object reads as empty."""
        raw = data if isinstance(data, Mapping) else {}
        known = {f.name: _READERS[str(f.type)] for f in fields(cls) if f.name != "extra"}  # type: ignore[arg-type]
        values = {name: read(raw[name]) for name, read in known.items() if name in raw}
        return cls(**values, extra={k: v for k, v in raw.items() if k not in known})

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored: values that are None or empty are left out (they read back the same)."""
        out = {k: _json(v) for k, v in self.extra.items()}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name != "extra" and value is not None and not (isinstance(value, tuple | Mapping) and not value):
                out[f.name] = _json(value)
        return out


@dataclass(frozen=True)
class StoredSettings(_Stored):
    """The ``IterationSettings`` an iteration ran with (see ``al_core.iteration``); None when not stored."""

    model: str | None = None
    model_by_classes: int | None = None  # the classes the model was chosen for when nobody chose one
    model_params: Mapping[str, Any] = field(default_factory=dict)
    strategy: str | None = None
    diversity: bool | None = None
    upload_top: int | None = None  # predictions uploaded; 0 = one for every unlabeled task
    eval_size: int | None = None  # None also means "the default size" (about 10%, capped at 300)
    eval_every: int | None = None  # one evaluation task in every ``eval_every`` served
    keep_versions: int | None = None
    random_state: int | None = None
    control: str | None = None
    trigger: str | None = None
    dask_scheduler: str | None = None  # "" or None: AL_DASK_SCHEDULER, else in the app's process
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IterationCounts(_Stored):
    """How many tasks, labels and predictions an iteration saw (all counts of tasks or texts).

    A running iteration knows at most ``n_labeled`` (None until the labels are read); a failed one keeps what
    it had when it failed. ``n_labeled`` counts training labels (the evaluation set is never trained on);
    ``multi_label`` is the project's label config (several labels per task), written by the engine.
    """

    n_tasks: int | None = None
    n_labeled: int | None = None
    n_eval: int | None = None  # size of the evaluation set
    n_eval_labeled: int | None = None  # its labeled tasks
    n_unlabeled: int | None = None
    skipped: int | None = None
    unknown_labels: int | None = None
    missing_text: int | None = None
    ground_truth_used: int | None = None
    tasks_fetched: int | None = None
    full_sync: bool | None = None
    n_scored: int | None = None
    n_predictions: int | None = None  # predictions uploaded to Label Studio
    cold_start: bool | None = None  # no model: the training labels covered fewer than two classes
    n_embedded: int | None = None  # texts embedded anew (models that embed texts only)
    n_embed_cached: int | None = None  # texts whose embedding came from the cache
    multi_label: bool | None = None  # None: written before the flag was stored and not measured
    label_fingerprint: str | None = None  # digest of the task ids and labels trained and evaluated on
    eval_order: str | None = None  # "random": its queue served the evaluation set in its fixed random order
    no_usable_label: int | None = None  # labeled tasks without a usable answer (empty, another control, ...)
    predictions_left_out: int | None = None  # their tasks were deleted during the run
    warnings: tuple[str, ...] = ()  # what was left out, in sentences (``reports.left_out``)
    compute: str | None = None  # where the pool was embedded and scored ("this process", "Dask at tcp://...")
    prediction_import: str | None = None  # how Label Studio imported them: "per-prediction", "per-project" (slow)
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredMetrics(_Stored):
    """Quality of a version, measured on the held-out evaluation set (shares in [0, 1]).

    All None/empty for a running, failed or cold-start iteration; ``accuracy``, ``macro_f1``, ``per_class_f1``,
    ``labels`` and ``confusion`` are also missing while no evaluation-set task is labeled. Single-label:
    ``confusion[i][j]`` counts tasks of true label ``labels[i]`` predicted as ``labels[j]``; multi-label:
    ``confusion[i]`` is ``(tn, fp, fn, tp)`` of ``labels[i]`` and ``accuracy`` is subset accuracy.
    """

    n_eval: int | None = None  # evaluation-set labels measured on
    accuracy: float | None = None
    macro_f1: float | None = None
    per_class_f1: Mapping[str, float] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    confusion: tuple[tuple[int, ...], ...] = ()
    cv_accuracy: float | None = None  # cross-validated on the training labels (biased by the query strategy)
    train_class_counts: Mapping[str, int] = field(default_factory=dict)
    live_agreement: float | None = None  # previous version's predictions vs labels given since; None: none yet
    n_live: int | None = None  # tasks ``live_agreement`` is measured on
    eval_sample: str | None = None  # "random" (a simple random sample of the set); missing or "biased": see below
    accuracy_ci: Interval | None = None  # 95% Wilson interval (read from accuracy and n_eval when not stored)
    macro_f1_ci: Interval | None = None  # 95% bootstrap interval; None for multi-label and older versions
    eval_outcomes: Mapping[int, EvalOutcome] = field(default_factory=dict)  # per evaluation task measured on
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """``_Stored.from_json``; a version stored without its accuracy interval gets the Wilson interval."""
        read = super().from_json(data)
        if read.accuracy_ci is None and (ci := wilson_of_stored(read.accuracy, read.n_eval)) is not None:
            return replace(read, accuracy_ci=ci)
        return read

    @property
    def biased_sample(self) -> bool:
        """Whether the accuracy was measured on evaluation tasks labeled in the strategy's order (before the
        evaluation set was served in its fixed random order): a record without ``eval_sample`` reads as biased."""
        return self.accuracy is not None and self.eval_sample != "random"


@dataclass(frozen=True)
class StoredUncertainty(_Stored):
    """How unsure a version is about the unlabeled pool, and whether its predictions settled.

    Empty for a running, failed or cold-start iteration. ``quantiles`` (keys ``p05`` ... ``p95``) and the
    20-bin histogram (``histogram_counts`` over 21 ``histogram_edges`` on [0, 1]) describe the strategy's
    informativeness; ``kappa`` and ``changed_share`` compare the pool's predictions with the previous version's
    (None for the first model). ``predicted_class_counts`` counts the predicted label sets over the pool.
    """

    n: int | None = None  # unlabeled tasks scored
    quantiles: Mapping[str, float] = field(default_factory=dict)
    histogram_counts: tuple[int, ...] = ()
    histogram_edges: tuple[float, ...] = ()
    top_probability_quantiles: Mapping[str, float] = field(default_factory=dict)
    mean_normalized_entropy: float | None = None  # 0 = sure, 1 = no idea
    changed_share: float | None = None
    kappa: float | None = None
    consider_stopping: bool | None = None
    predicted_class_counts: Mapping[LabelSet, int] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, data: Any, *, multi_label: bool | None, known_labels: tuple[str, ...] = ()) -> StoredUncertainty:
        """``from_json``, also reading the engine's ``{"a|b": n}`` form of ``predicted_class_counts``.

        That form joins a multi-label set with ``|``: it is split only when ``multi_label`` is True, and a key
        that is itself a known label stays whole.
        """
        raw = data if isinstance(data, Mapping) else {}
        joined = raw.get("predicted_class_counts")
        if not isinstance(joined, Mapping):
            return cls.from_json(raw)
        known = set(known_labels)
        counts: dict[LabelSet, int] = {}
        for key, n in _int_map(joined).items():
            split = multi_label and key not in known and all(p in known or not known for p in key.split("|"))
            label_set = tuple(key.split("|")) if split else (key,)
            counts[label_set] = counts.get(label_set, 0) + n
        return cls.from_json({**raw, "predicted_class_counts": [[list(k), n] for k, n in counts.items()]})

    def predicted_per_label(self) -> dict[str, int]:
        """Predictions per label (a multi-label set counts once for each of its labels)."""
        out: dict[str, int] = {}
        for label_set, n in self.predicted_class_counts.items():
            for label in label_set:
                out[label] = out.get(label, 0) + n
        return out


def read_timings(data: Any) -> dict[str, float]:
    """Seconds per step (``read``, ``train`` ...); entries that are not numbers are dropped."""
    return _float_map(data)


@dataclass(frozen=True)
class IterationRecord:
    """One iteration as stored: what the Progress page, the history tables and ``status`` read.

    ``status`` is ``running``, ``succeeded`` or ``failed``. A running iteration has no ``finished_at`` and says
    in ``step`` which step it is on (None before the first); a failed one has its ``error``. ``timings`` are
    seconds per step. ``artifact_path`` is None when no model was trained; ``predictions_state`` is
    ``none | kept | pruning | pruned``. ``server`` is the key of the Label Studio server whose project it ran on
    (``settings.server_key``; empty in a record built without one).
    """

    id: int
    project_id: int
    number: int
    model_version: str
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None = None
    settings: StoredSettings = field(default_factory=StoredSettings)
    counts: IterationCounts = field(default_factory=IterationCounts)
    metrics: StoredMetrics = field(default_factory=StoredMetrics)
    uncertainty: StoredUncertainty = field(default_factory=StoredUncertainty)
    timings: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None
    artifact_path: str | None = None
    predictions_state: str = "none"
    step: str | None = None
    server: str = ""

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any]) -> IterationRecord:
        """A record from the stored columns (the groups as JSON)."""
        counts = IterationCounts.from_json(columns.get("counts"))
        metrics = StoredMetrics.from_json(columns.get("metrics"))
        return cls(
            **{f: columns[f] for f in _PLAIN_COLUMNS if f in columns},
            settings=StoredSettings.from_json(columns.get("settings")),
            counts=counts,
            metrics=metrics,
            uncertainty=StoredUncertainty.read(
                columns.get("uncertainty"), multi_label=counts.multi_label, known_labels=metrics.labels
            ),
            timings=read_timings(columns.get("timings")),
        )

    @property
    def n_labeled(self) -> int | None:
        """Training labels, or None while a running iteration has not read them yet."""
        return self.counts.n_labeled

    @property
    def multi_label(self) -> bool:
        """Whether the project's labels are sets (False when not stored: older single-label rows)."""
        return bool(self.counts.multi_label)

    @property
    def total_seconds(self) -> float:
        return sum(self.timings.values())

    def state_text(self) -> str:
        """``succeeded``, ``running since 2025-01-01 09:00 UTC, step train`` or ``failed: <error>``."""
        if self.status == "running":
            return f"running since {self.started_at:%Y-%m-%d %H:%M} UTC, step {self.step or 'starting'}"
        if self.status == "failed":
            return f"failed: {self.error or 'no error recorded'}"
        return self.status


_PLAIN_COLUMNS = (
    "id",
    "project_id",
    "number",
    "model_version",
    "status",
    "trigger",
    "started_at",
    "finished_at",
    "error",
    "artifact_path",
    "predictions_state",
    "step",
    "server",
)


def succeeded_versions(records: Sequence[IterationRecord]) -> list[IterationRecord]:
    """The succeeded iterations, oldest first (the only ones the charts plot)."""
    return sorted((r for r in records if r.status == "succeeded"), key=lambda r: r.number)


@dataclass(frozen=True)
class AutomationRecord:
    """A project's automatic-iteration settings: retrain every ``every`` new annotations with ``settings``
    (``IterationSettings`` fields as a dict); ``counted`` annotations have arrived since the last run started."""

    project_id: int
    every: int
    settings: Mapping[str, Any]
    counted: int
