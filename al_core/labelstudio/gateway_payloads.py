"""The gateway's request filters and response rows: Label Studio's JSON in, our records out.

Pure functions, so the shape of what Label Studio sends and expects is tested without a server; the
gateway (the only module that talks to Label Studio) sends the requests and calls these on the answers.
"""

from __future__ import annotations

import json
from typing import Any

from al_core.labelstudio.records import Annotation, Prediction, Project, Task


def completed_filter(empty: bool) -> str:
    """A Data Manager query: tasks not yet completed (``empty=True``) or completed (``empty=False``)."""
    item = {"filter": "filter:tasks:completed_at", "operator": "empty", "type": "Datetime", "value": empty}
    return json.dumps({"filters": {"conjunction": "and", "items": [item]}})


def updated_after_filter(timestamp: str) -> str:
    """A Data Manager query: tasks created or changed after ``timestamp`` (``%Y-%m-%dT%H:%M:%S.%fZ``)."""
    item = {"filter": "filter:tasks:updated_at", "operator": "greater", "type": "Datetime", "value": timestamp}
    return json.dumps({"filters": {"conjunction": "and", "items": [item]}})


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
