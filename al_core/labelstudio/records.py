"""Plain records shared by the gateway and the engine (never SDK objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Annotation:
    """One annotation of a task, as exported by Label Studio."""

    id: int
    result: tuple[dict[str, Any], ...]
    was_cancelled: bool = False
    ground_truth: bool = False
    updated_at: str = ""  # ISO timestamp; used to break vote ties (latest wins)
    completed_by: int | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """A task: its id, its data and (for labeled tasks) its annotations. Slotted: an iteration over 1,000,000
    tasks holds a million of them (a ``__dict__`` each would add ~0.2 GB)."""

    id: int
    data: dict[str, Any]
    annotations: tuple[Annotation, ...] = field(default_factory=tuple)
    meta: dict[str, Any] = field(default_factory=dict, compare=False)  # updated_at / created_at when listed


@dataclass(frozen=True)
class Project:
    """What the dashboard needs to know about a Label Studio project."""

    id: int
    title: str
    label_config: str
    task_number: int = 0
    num_tasks_with_annotations: int = 0
    sampling: str = ""
    model_version: str = ""
    maximum_annotations: int = 1


@dataclass(frozen=True)
class Prediction:
    """A prediction stored in Label Studio."""

    id: int
    task: int
    model_version: str
    score: float | None
    result: tuple[dict[str, Any], ...]
