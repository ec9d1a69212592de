"""The gateway's request filters and response rows: Label Studio's JSON in, our records out.

Pure functions, so the shape of what Label Studio sends and expects is tested without a server; the
gateway (the only module that talks to Label Studio) sends the requests and calls these on the answers.
"""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass
from typing import Any, Literal

from al_core.errors import LabelStudioError
from al_core.labelstudio.records import Annotation, Prediction, Project, Task


@dataclass(frozen=True)
class User:
    """A Label Studio user: its ``id`` (what annotations record as ``completed_by``) and how people know it."""

    id: int
    email: str
    username: str
    first_name: str = ""
    last_name: str = ""

    @property
    def name(self) -> str:
        """How a team knows this user: "First Last <email>", else the email, else the username, else "user ID"."""
        full = f"{self.first_name} {self.last_name}".strip()
        if full and self.email:
            return f"{full} <{self.email}>"
        return full or self.email or self.username or f"user {self.id}"


def user(u: Any) -> User:
    """The SDK's user object (``users.whoami``, ``users.list``) as our User; missing fields read as ""."""
    text = {k: str(getattr(u, k, None) or "") for k in ("email", "username", "first_name", "last_name")}
    return User(id=int(u.id), **text)


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    project: int | None
    actions: tuple[str, ...]


def webhook(hook: Any) -> Webhook:
    """The SDK's webhook object as our Webhook."""
    return Webhook(int(hook.id), hook.url, hook.project, tuple(hook.actions or ()))


def webhook_row(row: dict[str, Any]) -> Webhook:
    """A webhook as ``/api/webhooks/`` answers it, as our Webhook."""
    return Webhook(int(row["id"]), str(row.get("url") or ""), row.get("project"), tuple(row.get("actions") or ()))


@dataclass(frozen=True)
class TaskImport:
    """What an import of tasks created (Label Studio's answer) and what it was sent."""

    tasks: int
    annotations: int
    predictions: int
    sent_tasks: int
    sent_annotations: int
    sent_predictions: int

    def __add__(self, other: TaskImport) -> TaskImport:
        return TaskImport(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def shortfalls(self) -> list[str]:
        """A sentence for each kind Label Studio created fewer of than it was sent (it drops some silently)."""
        kinds = (
            ("tasks", self.tasks, self.sent_tasks),
            ("annotations", self.annotations, self.sent_annotations),
            ("predictions", self.predictions, self.sent_predictions),
        )
        return [
            f"Label Studio created {made:,} of the {sent:,} {kind} it was sent; the other {sent - made:,} were "
            "left out (see its server log)."
            for kind, made, sent in kinds
            if made < sent
        ]


@dataclass(frozen=True)
class PredictionImport:
    """Predictions created, and those left out because their task was deleted since the pool was read."""

    created: int
    tasks_gone: int


def check_created(created: int, sent: int, project_id: int) -> int:
    """``created``, or LabelStudioError when Label Studio created fewer predictions than it was sent in one request
    (it drops those invalid for the labeling config silently)."""
    if created != sent:
        raise LabelStudioError(
            f"Label Studio created {created} of {sent} predictions in one upload to project {project_id}; "
            "the rest were invalid for its labeling config. Check that the labels match the config."
        )
    return created


def tasks_unlanded(chunk: list[dict[str, Any]], landed: int, what: str) -> list[dict[str, Any]]:
    """What of one task import request to send again after a failure, given how many tasks the project gained
    since it was sent: all of it when none landed, nothing when all did; LabelStudioError when only some did, or
    when the tasks landed with annotations or predictions whose landing cannot be told (never a duplicate task)."""
    carries = any(isinstance(t.get("data"), dict) and (t.get("annotations") or t.get("predictions")) for t in chunk)
    if landed <= 0:
        return chunk
    if landed == len(chunk) and not carries:
        return []
    raise LabelStudioError(
        f"Label Studio failed while {what}, after creating {landed:,} of the {len(chunk):,} tasks of one request"
        f"{' (with their annotations or predictions)' if carries else ''}; nothing was sent again, to avoid "
        "duplicate tasks. Check the project's tasks in Label Studio and import the missing ones again."
    )


# How a Label Studio imports predictions (1.23, ``data_import/api.py::ImportPredictionsAPI``), told apart by how it
# refuses a prediction for task 0, which no project has (both ways check every task before writing: nothing is written).
# "per-prediction": its memory-efficient import (``FAST_IMPORT_FLAG`` on, as ``make run`` starts it) recounts the tasks
# that got predictions. "per-project": the flag's default (off) recounts EVERY task of the project on each request
# (20,000 tasks: a full upload took 27.8 s in two requests, 20.3 s in one).
FAST_IMPORT_FLAG = "fflag_fix_back_4620_memory_efficient_predictions_import_08012025_short"
IMPORT_PROBE = {"task": 0, "result": [], "score": 0.0, "model_version": "al-import-probe"}
ImportMode = Literal["per-prediction", "per-project", "unknown"]
_GONE_PER_PREDICTION = "task ID 0 not found in project"  # "... contains invalid "task" field: task ID 0 not found ..."
_GONE_PER_PROJECT = (
    "be retrieved from project",
    "Invalid task ID 0 - task not found in project",
)  # "couldn't": quoted in reprs
PREDICTION_CHUNK: dict[str, int] = {  # predictions per import request
    "per-prediction": 10_000,  # requests cost per prediction: chunks cost nothing and show progress
    "per-project": 50_000,  # every request recounts the project: as few as memory allows (~30 MB of JSON each)
    "unknown": 10_000,
}
SLOW_IMPORT_WARNING = (
    "This Label Studio recounts every task of the project on each prediction upload (its memory-efficient import is "
    f"off), so uploads are slow on big projects: start it with {FAST_IMPORT_FLAG}=true in its environment."
)


def import_mode(refusal: str) -> ImportMode:
    """How the server imports predictions, from its refusal of ``IMPORT_PROBE`` (the error text)."""
    if _GONE_PER_PREDICTION in refusal:
        return "per-prediction"
    return "per-project" if any(s in refusal for s in _GONE_PER_PROJECT) else "unknown"


def task_gone(refusal: str) -> bool:
    """Whether a prediction import was refused for naming a task the project no longer has (either import's words)."""
    return "not found in project" in refusal or "be retrieved from project" in refusal


def check_listed(what: str, got: int, total: int, *, more: bool) -> None:
    """Go on reading pages while ``more``; raise LabelStudioError when a listing stops short of the server's total.

    A listing read in part would train, score or prune on part of a project without a word.
    """
    if got < total and not more:
        raise LabelStudioError(
            f"Label Studio said it holds {total:,} {what} but sent {got:,}; the project changed while it was read, "
            "or the server pages its listings in a way this version does not follow. Run again; if it repeats, "
            "report the Label Studio version."
        )


def completed_filter(empty: bool) -> str:
    """A Data Manager query: tasks not yet completed (``empty=True``) or completed (``empty=False``)."""
    item = {"filter": "filter:tasks:completed_at", "operator": "empty", "type": "Datetime", "value": empty}
    return json.dumps({"filters": {"conjunction": "and", "items": [item]}})


def updated_after_filter(timestamp: str) -> str:
    """A Data Manager query: tasks created or changed after ``timestamp`` (``%Y-%m-%dT%H:%M:%S.%fZ``)."""
    item = {"filter": "filter:tasks:updated_at", "operator": "greater", "type": "Datetime", "value": timestamp}
    return json.dumps({"filters": {"conjunction": "and", "items": [item]}})


def task_query(labeled: bool | None, updated_after: str | None) -> str | None:
    """The Data Manager query of a task listing: by completion (``labeled`` True/False), else changed since
    ``updated_after``, else None (every task)."""
    if labeled is not None:
        return completed_filter(empty=not labeled)
    return updated_after_filter(updated_after) if updated_after else None


def task_import(chunk: list[dict[str, Any]], answer: Any) -> TaskImport:
    """What one import request sent (a bare data dict is one task) and what Label Studio says it created
    (``task_count``, ``annotation_count``, ``prediction_count``; a count it leaves out is taken as sent)."""
    sent = [len(chunk), 0, 0]
    for task in chunk:
        if isinstance(task.get("data"), dict):
            sent[1] += len(task.get("annotations") or ())
            sent[2] += len(task.get("predictions") or ())
    answer = answer if isinstance(answer, dict) else {}
    keys = ("task_count", "annotation_count", "prediction_count")
    made = [int(answer[key]) if answer.get(key) is not None else n for key, n in zip(keys, sent, strict=True)]
    return TaskImport(*made, *sent)


def task_meta(row: dict[str, Any]) -> dict[str, Any]:
    """The timestamps of a task row that the task cache reads (``updated_at``, ``created_at``), when present."""
    return {k: row[k] for k in ("updated_at", "created_at") if k in row}


def listed_task(row: dict[str, Any]) -> Task:
    """A row of the fast task listing (``include=id,data``) as a Task without annotations."""
    return Task(id=int(row["id"]), data=row.get("data") or {}, meta=task_meta(row))


def task_with_annotations(row: dict[str, Any]) -> Task:
    """A row of the export or of ``/next`` as a Task with its annotations (cancelled ones included)."""
    anns = tuple(
        Annotation(
            id=int(a["id"]),
            result=tuple(a.get("result") or ()),
            was_cancelled=bool(a.get("was_cancelled")),
            ground_truth=bool(a.get("ground_truth")),
            updated_at=str(a.get("updated_at") or a.get("created_at") or ""),
            completed_by=a.get("completed_by") if isinstance(a.get("completed_by"), int) else None,
        )
        for a in row.get("annotations") or ()
    )
    return Task(id=int(row["id"]), data=row.get("data") or {}, annotations=anns, meta=task_meta(row))


def prediction(row: dict[str, Any]) -> Prediction:
    """A row of ``/api/predictions/`` as a Prediction."""
    return Prediction(
        int(row["id"]),
        int(row["task"]),
        str(row.get("model_version") or ""),
        row.get("score"),
        tuple(row.get("result") or ()),
    )


def project(p: Any) -> Project:
    """The SDK's project object as our Project (missing counters read as 0, a missing overlap as 1)."""
    return Project(
        id=int(p.id),
        title=p.title or "",
        label_config=p.label_config or "",
        task_number=int(getattr(p, "task_number", 0) or 0),
        num_tasks_with_annotations=int(getattr(p, "num_tasks_with_annotations", 0) or 0),
        sampling=str(getattr(p, "sampling", "") or ""),
        model_version=str(getattr(p, "model_version", "") or ""),
        maximum_annotations=int(getattr(p, "maximum_annotations", 1) or 1),
    )
