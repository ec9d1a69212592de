"""Turn Label Studio annotations into training labels: one label (or label set) per task.

Cancelled (skipped) annotations, empty results and results of other controls are dropped first; a
ground-truth annotation wins; otherwise the annotators vote and the latest annotation breaks ties.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from al_core.labelstudio.label_config import LabelSpec
from al_core.labelstudio.records import Annotation, Task
from al_core.labelstudio.task_data import task_text

Label = str | tuple[str, ...]
"""One task's label: a string, or a tuple of labels (config order) when the Choices are multiple."""

_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LabeledSet:
    """The training set read from annotated tasks, and counts of what was left out and why.

    Attributes:
        task_ids, texts, labels: aligned, one entry per usable task.
        skipped: tasks whose annotations were all cancelled (skipped in Label Studio).
        unknown_labels: label value -> number of annotations naming it although the config does not have
            it (e.g. the config changed since); those annotations are ignored.
        missing_text: labeled tasks whose data lacks the text field or has an empty text.
        ground_truth_used: tasks whose label came from a ground-truth annotation.
    """

    task_ids: tuple[int, ...]
    texts: tuple[str, ...]
    labels: tuple[Label, ...]
    skipped: int = 0
    unknown_labels: dict[str, int] = field(default_factory=dict, hash=False)
    missing_text: int = 0
    ground_truth_used: int = 0

    @property
    def n(self) -> int:
        """Number of usable tasks."""
        return len(self.task_ids)

    @property
    def classes(self) -> tuple[str, ...]:
        """Sorted distinct labels seen (each label of a multi-label set counts)."""
        seen: set[str] = set()
        for label in self.labels:
            seen.update((label,) if isinstance(label, str) else label)
        return tuple(sorted(seen))

    def subset(self, keep: Callable[[int], bool]) -> LabeledSet:
        """The examples whose task id ``keep`` accepts (same order); the counts of what was left out stay."""
        idx = [i for i, tid in enumerate(self.task_ids) if keep(tid)]
        return replace(
            self,
            task_ids=tuple(self.task_ids[i] for i in idx),
            texts=tuple(self.texts[i] for i in idx),
            labels=tuple(self.labels[i] for i in idx),
        )


def aggregate(task: Task, spec: LabelSpec) -> Label | None:
    """The training label of one task, or None when it has no usable annotation.

    Drops cancelled annotations, empty results, results of other controls and annotations naming a
    label not in ``spec.labels``. A ground-truth annotation wins (the latest, if several). Otherwise:
    single-choice -> majority vote, ties broken by the latest annotation (``updated_at``, then id);
    multiple-choice -> labels chosen by more than half of the annotations, or, if none is, the latest
    annotation's set. A single-choice spec ignores annotations holding several choices.
    """
    return _aggregate(task, spec, Counter())[0]


def from_annotations(tasks: Iterable[Task], spec: LabelSpec) -> LabeledSet:
    """Build the training set from tasks and their annotations (see :func:`aggregate`).

    Tasks without annotations are left out silently; the others that cannot be used are counted in the
    returned :class:`LabeledSet` (``skipped``, ``unknown_labels``, ``missing_text``).
    """
    task_ids: list[int] = []
    texts: list[str] = []
    labels: list[Label] = []
    unknown: Counter[str] = Counter()
    skipped = missing_text = ground_truth_used = 0
    for task in tasks:
        if task.annotations and all(a.was_cancelled for a in task.annotations):
            skipped += 1
            continue
        label, from_ground_truth = _aggregate(task, spec, unknown)
        if label is None:
            continue
        text = task_text(task.data, spec)
        if text is None:
            missing_text += 1
            continue
        task_ids.append(task.id)
        texts.append(text)
        labels.append(label)
        ground_truth_used += from_ground_truth
    return LabeledSet(
        task_ids=tuple(task_ids),
        texts=tuple(texts),
        labels=tuple(labels),
        skipped=skipped,
        unknown_labels=dict(unknown),
        missing_text=missing_text,
        ground_truth_used=ground_truth_used,
    )


@dataclass(frozen=True)
class Vote:
    """One annotator's single choice on one task (``annotator`` is Label Studio's user id, None when unknown)."""

    task_id: int
    annotator: int | None
    label: str


def votes(tasks: Iterable[Task], spec: LabelSpec) -> list[Vote]:
    """Every usable single choice of every annotation, one ``Vote`` each, for agreement between annotators.

    The same annotations :func:`aggregate` votes with: cancelled ones, empty results, other controls, unknown labels
    and several choices are left out. Multi-label specs give no votes (agreement is measured on single choices).
    """
    if spec.multiple:
        return []
    found = []
    for task in tasks:
        for annotation in task.annotations:
            chosen = () if annotation.was_cancelled else _choices(annotation, spec)
            if len(chosen) == 1 and chosen[0] in spec.labels:
                found.append(Vote(task.id, annotation.completed_by, chosen[0]))
    return found


def fingerprint(training: LabeledSet, evaluation: LabeledSet) -> str:
    """A digest of which tasks an iteration trained and evaluated on and with which labels (hex, 16 chars).

    Equal exactly when both parts hold the same task ids with the same labels, whatever the order the tasks
    were read in; texts, skipped tasks and counts do not enter it. Two versions with equal fingerprints learned
    the same thing: the second is a re-run, not a new version.
    """
    parts = [
        sorted(
            [tid, [label] if isinstance(label, str) else list(label)]
            for tid, label in zip(ls.task_ids, ls.labels, strict=True)
        )
        for ls in (training, evaluation)
    ]
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()[:16]


def _aggregate(task: Task, spec: LabelSpec, unknown: Counter[str]) -> tuple[Label | None, bool]:
    """(label, whether it came from ground truth); counts unknown labels into ``unknown``."""
    usable: list[tuple[Annotation, tuple[str, ...]]] = []
    for annotation in task.annotations:
        if annotation.was_cancelled:
            continue
        chosen = _choices(annotation, spec)
        bad = [label for label in chosen if label not in spec.labels]
        if bad:
            unknown.update(bad)
            continue
        if chosen and (spec.multiple or len(chosen) == 1):
            usable.append((annotation, chosen))
    if not usable:
        return None, False
    usable.sort(key=lambda pair: _recency(pair[0]))  # oldest first, latest last
    truth = [chosen for annotation, chosen in usable if annotation.ground_truth]
    if truth:
        return _as_label(truth[-1], spec), True
    if spec.multiple:
        return _vote_multiple(usable, spec), False
    return _vote_single(usable), False


def _choices(annotation: Annotation, spec: LabelSpec) -> tuple[str, ...]:
    """Distinct choices an annotation makes in spec's control, in result order."""
    chosen: dict[str, None] = {}
    for result in annotation.result:
        if result.get("from_name") != spec.control_name:
            continue
        if str(result.get("type", "choices")).lower() != "choices":
            continue
        value = result.get("value") or {}
        for choice in value.get("choices") or ():
            # Nested (taxonomy-like) choices arrive as lists: they never match a flat label.
            chosen[choice if isinstance(choice, str) else str(choice)] = None
    return tuple(chosen)


def _vote_single(usable: list[tuple[Annotation, tuple[str, ...]]]) -> str:
    counts = Counter(chosen[0] for _, chosen in usable)
    top = max(counts.values())
    tied = {label for label, count in counts.items() if count == top}
    return next(chosen[0] for _, chosen in reversed(usable) if chosen[0] in tied)


def _vote_multiple(usable: list[tuple[Annotation, tuple[str, ...]]], spec: LabelSpec) -> tuple[str, ...]:
    counts = Counter(label for _, chosen in usable for label in chosen)
    kept = tuple(label for label in spec.labels if 2 * counts[label] > len(usable))
    return kept or _as_label(usable[-1][1], spec)  # type: ignore[return-value]


def _as_label(chosen: tuple[str, ...], spec: LabelSpec) -> Label:
    if not spec.multiple:
        return chosen[0]
    return tuple(label for label in spec.labels if label in chosen)


def _recency(annotation: Annotation) -> tuple[datetime, int]:
    # Parse rather than compare strings: "...:00Z" and "...:00.5Z" do not sort as text.
    try:
        stamp = datetime.fromisoformat(annotation.updated_at)
    except (TypeError, ValueError):
        stamp = _EPOCH
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp, annotation.id
