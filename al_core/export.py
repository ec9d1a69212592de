"""``export-predictions``: one model version's prediction for every task of a project, for teams that auto-label
the rest once the model is good enough.

One row per task that shows a text: ``task_id``, ``predicted`` (a label, or a tuple of labels for multi-label
projects), ``confidence`` (the top probability), ``margin`` (top-1 minus top-2 probability; for multi-label the
smallest distance of any label's probability from the 0.5 threshold, doubled: both in [0, 1], low = unsure),
``is_eval`` (the task is in the project's evaluation set) and ``label`` (the human label; None when unlabeled).
Written as CSV (labels joined by ``|``) or as JSON Lines (labels as lists). Tasks without a readable text are
left out and counted.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from al_core import settings
from al_core.errors import ConfigError, NotFound
from al_core.labelstudio import labels
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import parse_label_config
from al_core.labelstudio.task_cache import sync_tasks
from al_core.labelstudio.task_data import task_text
from al_core.learning import embeddings, models
from al_core.store import versions
from al_core.store.history import History

COLUMNS = ("task_id", "predicted", "confidence", "margin", "is_eval", "label")
CHUNK = 10_000  # tasks predicted at a time: bounded memory on large projects

Label = str | tuple[str, ...]


@dataclass(frozen=True)
class PredictionRow:
    """One task's prediction by one model version (see the module docstring for each field)."""

    task_id: int
    predicted: Label
    confidence: float
    margin: float
    is_eval: bool
    label: Label | None


@dataclass(frozen=True)
class PredictionExport:
    """Every row of one version's export, and what was left out (``n_missing_text`` tasks show no text)."""

    project_id: int
    model_version: str
    rows: tuple[PredictionRow, ...]
    n_missing_text: int

    @property
    def warnings(self) -> list[str]:
        if not self.n_missing_text:
            return []
        return [f"{self.n_missing_text} task(s) left out: their data holds no text in the labeled field."]


def export_predictions(
    gateway: Gateway,
    history: History,
    project_id: int,
    version: str | None = None,
    *,
    control: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> PredictionExport:
    """Predict every task of ``project_id`` with ``version`` (default: the project's current model version).

    Raises:
        NotFound: the project has no current model version, or ``version`` has no saved model here.
        LabelStudioError: Label Studio could not be read.
        ConfigError: ``history`` belongs to another server than ``gateway``.
    """
    history.check_server(gateway.url)
    project = gateway.get_project(project_id)
    version = version or project.model_version
    if not version:
        raise NotFound(
            f"Project {project_id} has no current model version: run an iteration first, or name one with --version."
        )
    model = _load_version(history, project_id, version)
    spec = parse_label_config(
        project.label_config, control if control is not None else _stored_control(history, project_id, version)
    )
    tasks, _ = sync_tasks(gateway, project_id, project.task_number)
    human = {t.id: labels.aggregate(t, spec) for t in gateway.labeled_tasks(project_id)}
    eval_ids = set(history.eval_set(project_id))
    readable = [(t.id, text) for t in tasks if (text := task_text(t.data, spec)) is not None]
    warm_embeddings(gateway.url, project_id, model.name, model.params, readable)
    rows: list[PredictionRow] = []
    for start in range(0, len(readable), CHUNK):
        part = readable[start : start + CHUNK]
        proba = model.predict_proba([text for _, text in part])
        for (task_id, _), predicted, confidence, margin in zip(part, *_describe(proba, model), strict=True):
            rows.append(PredictionRow(task_id, predicted, confidence, margin, task_id in eval_ids, human.get(task_id)))
        if on_progress:
            on_progress(min(start + CHUNK, len(readable)), len(readable))
    rows.sort(key=lambda row: row.task_id)
    return PredictionExport(project_id, version, tuple(rows), len(tasks) - len(readable))


def _load_version(history: History, project_id: int, version: str) -> models.FittedModel:
    record = history.get_iteration(project_id, version)
    path = versions.saved_model(record) if record is not None else None
    if path is None or not path.is_file():
        kept = [it.model_version for it in history.succeeded(project_id) if versions.saved_model(it).is_file()]
        shown = ", ".join(kept[-10:]) or "none"
        raise NotFound(
            f"Model version {version!r} of project {project_id} has no saved model in this history "
            f"(versions with a saved model: {shown}). Name one of those with --version."
        )
    return models.load_model(path)


def _stored_control(history: History, project_id: int, version: str) -> str | None:
    record = history.get_iteration(project_id, version)
    stored = getattr(record, "settings", None)
    control = stored.get("control") if isinstance(stored, dict) else getattr(stored, "control", None)
    return control or None


def warm_embeddings(
    server_url: str,
    project_id: int,
    model_name: str,
    params: Mapping[str, Any],
    readable: Sequence[tuple[int, str]],
) -> None:
    """Fill the encoder's memo from the project's embedding cache, so only new or changed texts are embedded.

    ``readable`` must be every task of the project with a text (``(task_id, text)``): the cache file then holds
    exactly those, so passing a part would evict the others' vectors. A no-op for models that do not embed."""
    if not models.uses_embeddings(model_name) or not readable:
        return
    encoder = models.resolve_params(model_name, params)["encoder"]
    embeddings.embed_tasks(
        embeddings.cache_path(settings.cache_dir(), embeddings.project_scope(server_url, project_id), encoder),
        [task_id for task_id, _ in readable],
        [text for _, text in readable],
        encoder=encoder,
    )


def _describe(proba: np.ndarray, model: models.FittedModel) -> tuple[list[Label], list[float], list[float]]:
    """Predicted label(s), top probability and margin per row of ``proba``."""
    if not len(proba):
        return [], [], []
    top = proba.max(axis=1)
    predicted: list[Label] = list(models.labels_from_proba(proba, model.classes, model.multi_label))
    if model.multi_label:
        margin = np.abs(2 * proba - 1).min(axis=1)
    else:
        ordered = np.sort(proba, axis=1)
        margin = ordered[:, -1] - (ordered[:, -2] if proba.shape[1] > 1 else 0.0)
    return predicted, [round(float(v), 6) for v in top], [round(float(v), 6) for v in margin]


def _cell(value: Label | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else "|".join(value)


def _records(rows: Sequence[PredictionRow], *, joined: bool) -> Iterator[dict[str, Any]]:
    for row in rows:
        if joined:
            yield {
                "task_id": row.task_id,
                "predicted": _cell(row.predicted),
                "confidence": row.confidence,
                "margin": row.margin,
                "is_eval": "true" if row.is_eval else "false",
                "label": _cell(row.label),
            }
        else:
            label = row.label if row.label is None or isinstance(row.label, str) else list(row.label)
            predicted = row.predicted if isinstance(row.predicted, str) else list(row.predicted)
            yield {
                "task_id": row.task_id,
                "predicted": predicted,
                "confidence": row.confidence,
                "margin": row.margin,
                "is_eval": row.is_eval,
                "label": label,
            }


def to_csv(rows: Sequence[PredictionRow]) -> str:
    """The rows as CSV text with a header (``COLUMNS``); multi-label sets joined by ``|``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_records(rows, joined=True))
    return out.getvalue()


def to_jsonl(rows: Sequence[PredictionRow]) -> str:
    """The rows as JSON Lines: one object per task, label sets as lists, ``label`` null when unlabeled."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in _records(rows, joined=False))


def write(export: PredictionExport, path: str | Path) -> Path:
    """Write ``export`` to ``path``: JSON Lines when it ends in ``.jsonl``, else CSV. Raises ConfigError when
    the file cannot be written."""
    path = Path(path)
    text = to_jsonl(export.rows) if path.suffix.lower() == ".jsonl" else to_csv(export.rows)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"Cannot write the predictions to {str(path)!r}: {err.strerror or err}.") from err
    return path
