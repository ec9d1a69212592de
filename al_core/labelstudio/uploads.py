"""Turn uploaded files (CSV, TSV, JSON, JSON Lines, plain text) into Label Studio tasks, streaming.

This module is the import itself: the preview, the task stream with its duplicate check, and the labeled
CSV of the Strategy lab. Reading lives beside it: ``upload_text`` (format, encoding, a text stream) and
``upload_rows`` (CSV/TSV, JSON, JSON Lines and text files as rows).

Memory stays bounded whatever the file size: rows are read one at a time (JSON lists included), tasks
leave in chunks, and the duplicate check keeps an 8-byte hash per text rather than the text (in a sorted
numpy array: a Python set of ints would cost ~70 bytes per text, 35 MB for 500,000 short rows).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from al_core.errors import ConfigError, UploadError
from al_core.labelstudio.gateway_payloads import TaskImport
from al_core.labelstudio.upload_rows import PREVIEW_ROWS, TaskRow, check_rows, csv_rows, open_rows
from al_core.labelstudio.upload_text import Format, Source, rereadable, text_stream
from al_core.validation import check_int

EMPTY_TEXT = "with an empty text"
REPEATED_TEXT = "repeating an earlier text"
_ANNOTATION_KEYS = ("result", "was_cancelled", "ground_truth", "lead_time", "id")  # what Label Studio's import reads
_PREDICTION_KEYS = ("result", "score", "model_version")
_DEDUP_BATCH = 1024  # rows checked for duplicates at once (vectorised)
_EXACT_COUNT_MAX_BYTES = 5 << 20  # above this, preview_upload does not read the whole file to count rows


@dataclass(frozen=True)
class UploadPreview:
    """What the import page shows before importing: first rows, columns and a text-column guess."""

    format: Format
    encoding: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    n_rows: int | None  # None when counting would mean reading a large file
    suggested_text_column: str | None


def preview_upload(source: Source, filename: str) -> UploadPreview:
    """The first 20 rows of an upload, its columns and encoding, and a guess of the text column.

    ``n_rows`` is exact for files up to 5 MB (or with fewer than 20 rows), else None. Raises UploadError
    like :func:`iter_task_chunks` (except for the text column, which is not chosen yet).
    """
    with open_rows(source, filename) as (fmt, encoding, size, columns, rows, _):
        head = list(itertools.islice(rows, PREVIEW_ROWS))
        n_rows: int | None = None
        if len(head) < PREVIEW_ROWS or size <= _EXACT_COUNT_MAX_BYTES:
            n_rows = len(head) + sum(1 for _ in rows)
    return UploadPreview(fmt, encoding, columns, head, n_rows, _suggest_text_column(columns, head))


class _SeenTexts:
    """Hashes of the texts met so far, ~8 bytes each: a set of recent ones, merged into a sorted array."""

    _RECENT_MAX = 1 << 14

    def __init__(self) -> None:
        self._recent: set[int] = set()
        self._sorted = np.empty(0, dtype=np.uint64)

    def add_all(self, texts: list[str]) -> list[bool]:
        """Remember each text; True where it is new (not met before, nor earlier in ``texts``)."""
        hashes = [
            int.from_bytes(hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
            for t in texts
        ]
        known = [False] * len(hashes)
        if len(self._sorted) and hashes:  # one vectorised lookup per batch: per row, numpy calls cost ~10 µs
            wanted = np.array(hashes, dtype=np.uint64)
            at = np.minimum(self._sorted.searchsorted(wanted), len(self._sorted) - 1)
            known = (self._sorted[at] == wanted).tolist()
        fresh = []
        for hashed, old in zip(hashes, known, strict=True):
            new = not old and hashed not in self._recent
            fresh.append(new)
            if new:
                self._recent.add(hashed)
        if len(self._recent) >= self._RECENT_MAX:
            merged = np.concatenate([self._sorted, np.sort(np.fromiter(self._recent, np.uint64, len(self._recent)))])
            merged.sort(kind="stable")  # two sorted runs: timsort merges them in linear time
            self._sorted, self._recent = merged, set()
        return fresh


class TaskStream:
    """Chunks of Label Studio task dicts read from an upload (see :func:`iter_task_chunks`).

    Iterate it once: the whole file is read once without building tasks before the first chunk (a malformed row
    anywhere raises UploadError before anything is sent), then streamed. The counters grow while it streams and
    are final after the loop: ``n_rows == n_empty + n_duplicates + n_tasks``; ``n_annotations`` and
    ``n_predictions`` count those sent with the tasks (Label Studio's own ``[{"data", "annotations",
    "predictions"}]`` format), ``left_out`` what the file held that is not sent (see :func:`task_extras`).
    ``bytes_read`` of ``size`` bytes (``fraction``) say how far into the file the last chunk reached: a progress
    measure that needs no row count.
    """

    def __init__(
        self,
        source: Source,
        filename: str,
        *,
        text_column: str,
        data_key: str = "text",
        chunk_size: int = 1000,
        keep_columns: bool = False,
    ) -> None:
        check_int("chunk_size", chunk_size, 1)
        if not data_key or not isinstance(data_key, str):
            raise ConfigError(f"The 'data_key' parameter must be a non-empty string. Got {data_key!r} instead.")
        self._source, self._filename, self._text_column = rereadable(source), filename, text_column
        self._data_key, self._chunk_size, self._keep_columns = data_key, chunk_size, keep_columns
        self._started = False
        self.n_rows = self.n_empty = self.n_duplicates = self.n_tasks = 0
        self.n_annotations = self.n_predictions = 0
        self.left_out: Counter[str] = Counter()
        self.bytes_read = self.size = 0

    @property
    def fraction(self) -> float:
        """Share of the file read when the last chunk left (0.0 before, 1.0 after the whole file)."""
        return min(self.bytes_read / self.size, 1.0) if self.size else 0.0

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        if self._started:
            raise RuntimeError("A TaskStream can be iterated once; call iter_task_chunks() again.")
        self._started = True
        return self._chunks()

    def _data(self, row: dict[str, Any], text: str) -> dict[str, Any]:
        data = {k: v for k, v in row.items() if k != self._text_column} if self._keep_columns else {}
        data[self._data_key] = text  # the text wins over another column named like data_key
        return data

    def _task(self, row: dict[str, Any], text: str) -> dict[str, Any]:
        task = {"data": self._data(row, text)}
        if isinstance(row, TaskRow):
            extras, left_out = task_extras(row.rest)
            task.update(extras)
            self.left_out.update(left_out)
            self.n_annotations += len(extras.get("annotations", ()))
            self.n_predictions += len(extras.get("predictions", ()))
        return task

    def _left_out(self, row: dict[str, Any], reason: str) -> None:
        """Count a row that is not imported, and the annotations and predictions it carried."""
        for key in ("annotations", "predictions"):
            if isinstance(row, TaskRow) and isinstance(row.rest.get(key), list) and row.rest[key]:
                self.left_out[f"{key} on rows {reason}"] += len(row.rest[key])

    def _chunks(self) -> Iterator[list[dict[str, Any]]]:
        seen = _SeenTexts()
        chunk: list[dict[str, Any]] = []
        columns = check_rows(self._source, self._filename)
        if self._text_column not in columns:
            raise UploadError(
                f"{self._filename}: no column {self._text_column!r}; columns found: "
                f"{', '.join(map(repr, columns)) or 'none'}. Choose one of them as the text column."
            )
        with open_rows(self._source, self._filename) as (_, _, size, _, rows, position):
            self.size = size
            for batch in iter(lambda: list(itertools.islice(rows, _DEDUP_BATCH)), []):
                self.n_rows += len(batch)
                texts = [_as_text(row.get(self._text_column)) for row in batch]
                keys = [text.strip() for text in texts]
                fresh = iter(seen.add_all([key for key in keys if key]))
                for row, text, key in zip(batch, texts, keys, strict=True):
                    if not key:
                        self.n_empty += 1
                        self._left_out(row, EMPTY_TEXT)
                    elif not next(fresh):
                        self.n_duplicates += 1
                        self._left_out(row, REPEATED_TEXT)
                    else:
                        chunk.append(self._task(row, text))
                        self.n_tasks += 1
                        if len(chunk) == self._chunk_size:
                            self.bytes_read = position()
                            yield chunk
                            chunk = []
        self.bytes_read = self.size
        if chunk:
            yield chunk


def task_extras(rest: dict[str, Any]) -> tuple[dict[str, Any], Counter[str]]:
    """What a Label Studio task besides its data is imported with, and counts of what is not.

    Kept: ``annotations`` and ``predictions`` that are objects with a ``result`` list (the keys Label Studio's
    import reads), and a ``meta`` object. An annotation's ``completed_by`` is dropped: an id or e-mail from another
    server names another person or none here, and Label Studio refuses the whole request for an unknown one; the
    annotation then counts as the importing user's. Drafts are left out (Label Studio imports them only behind a
    feature flag). Ids, counters and timestamps of the other server are bookkeeping Label Studio ignores.

    Returns (the keys to add to the task, counts by reason: ``"annotations without a result list"``,
    ``"predictions without a result list"``, ``"drafts"``, ``"annotator ids"``).
    """
    extras: dict[str, Any] = {}
    counts: Counter[str] = Counter()
    for key, keep in (("annotations", _ANNOTATION_KEYS), ("predictions", _PREDICTION_KEYS)):
        items = rest.get(key)
        items = items if isinstance(items, list) else [items] if items is not None else []
        valid = [item for item in items if isinstance(item, dict) and isinstance(item.get("result"), list)]
        counts[f"{key} without a result list"] += len(items) - len(valid)
        if key == "annotations":
            counts["annotator ids"] += sum(1 for item in valid if item.get("completed_by") is not None)
        if valid:
            extras[key] = [{k: item[k] for k in keep if k in item} for item in valid]
    if isinstance(rest.get("meta"), dict) and rest["meta"]:
        extras["meta"] = rest["meta"]
    drafts = rest.get("drafts")
    counts["drafts"] += len(drafts) if isinstance(drafts, list) else 0
    return extras, +counts


def iter_task_chunks(
    source: Source,
    filename: str,
    *,
    text_column: str,
    data_key: str = "text",
    chunk_size: int = 1000,
    keep_columns: bool = False,
) -> TaskStream:
    """Stream an upload as lists of at most ``chunk_size`` tasks ``{"data": {data_key: text, ...}}``.

    The format comes from ``filename``. Empty texts and duplicates (compared after stripping whitespace)
    are dropped and counted on the returned :class:`TaskStream`. JSON must be a list of objects or strings;
    Label Studio's ``[{"data": {...}}]`` is accepted. ``keep_columns`` copies the other columns into ``data``.

    Raises:
        ConfigError: bad ``chunk_size`` or ``data_key`` (at once).
        UploadError: while iterating, before the first chunk for a problem with the whole file (format,
            encoding, empty, no ``text_column``, JSON not a list), or where a malformed row is met.
    """
    return TaskStream(
        source, filename, text_column=text_column, data_key=data_key, chunk_size=chunk_size,
        keep_columns=keep_columns,
    )  # fmt: skip


@dataclass(frozen=True)
class ImportReport:
    """What the Project page says after an import: one summary sentence and one sentence per kind left out."""

    summary: str
    warnings: tuple[str, ...]


def import_report(stream: TaskStream, imported: TaskImport) -> ImportReport:
    """The summary of a finished import (``created N tasks with A annotations and P predictions``) and a
    sentence for everything the file held that is not in Label Studio now: empty texts, repeated texts, the
    annotations and predictions they carried, invalid ones, drafts, annotator ids, and whatever Label Studio
    itself created fewer of than it was sent."""
    summary = (
        f"Created {imported.tasks:,} tasks with {imported.annotations:,} annotations and "
        f"{imported.predictions:,} predictions from {stream.n_rows:,} rows."
    )
    left_out = {EMPTY_TEXT: stream.n_empty, REPEATED_TEXT: stream.n_duplicates}
    warnings = [f"{_plural(n, 'row', 'rows')} {reason} left out." for reason, n in left_out.items() if n]
    for reason, n in sorted(stream.left_out.items()):
        if reason == "annotator ids":
            warnings.append(
                f"{_plural(n, 'annotation names an annotator', 'annotations name annotators')} of another server: "
                "counted as made by you (the key's user)."
            )
        elif reason == "drafts":
            warnings.append(f"{_plural(n, 'draft', 'drafts')} left out (Label Studio imports submitted annotations).")
        else:
            kind, _, why = reason.partition(" ")
            warnings.append(f"{_plural(n, kind[:-1], kind)} {why} left out.")
    return ImportReport(summary, tuple(warnings) + tuple(imported.shortfalls()))


def read_labeled_csv(source: Source) -> pd.DataFrame:
    """Read a labeled CSV into a DataFrame with str columns ``text`` and ``label``, blank rows dropped.

    Column names are matched ignoring case and surrounding spaces; the delimiter (``,`` ``;`` tab ``|``)
    is guessed from the header. ``df.attrs["n_dropped"]`` counts rows dropped for a blank text or label.
    Raises UploadError for an undecodable, empty or malformed file, or no ``text``/``label`` column.
    """
    name = os.path.basename(str(getattr(source, "name", None) or source))
    with text_stream(source, name) as (stream, _, _):
        columns, rows = csv_rows(stream, "csv", name)
        lowered = {c.lower(): c for c in columns}
        missing = [c for c in ("text", "label") if c not in lowered]
        if missing:
            raise UploadError(
                f"{name}: a labeled CSV needs columns 'text' and 'label'; missing {missing}, found "
                f"{list(columns)}. Rename the columns and upload again."
            )
        records = [(row[lowered["text"]], row[lowered["label"]].strip()) for row in rows]
    df = pd.DataFrame.from_records(records, columns=["text", "label"]).astype(str)
    keep = (df["text"].str.strip() != "") & (df["label"] != "")
    out = df[keep].reset_index(drop=True)
    out.attrs["n_dropped"] = int((~keep).sum())
    return out


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value if isinstance(value, str) else str(value)


def _suggest_text_column(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str | None:
    """ "text" (any case) if present, else the column with the longest mean string length."""
    named = [c for c in columns if c == "text"] + [c for c in columns if c.lower() == "text"]
    lengths = {c: sum(len(v) for r in rows if isinstance(v := r.get(c), str)) for c in columns}
    return named[0] if named else max(columns, key=lengths.__getitem__, default=None)
