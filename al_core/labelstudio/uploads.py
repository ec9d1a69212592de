"""Turn uploaded files (CSV, TSV, JSON, JSON Lines, plain text) into Label Studio tasks, streaming.

Memory stays bounded whatever the file size: rows are read one at a time (JSON lists included), tasks
leave in chunks, and the duplicate check keeps an 8-byte hash per text rather than the text (in a sorted
numpy array: a Python set of ints would cost ~70 bytes per text, 35 MB for 500,000 short rows).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal, Union

import numpy as np
import pandas as pd

from al_core.errors import ConfigError, UploadError
from al_core.validation import check_int

Format = Literal["csv", "tsv", "json", "jsonl", "txt"]
Source = Union[str, "os.PathLike[str]", IO[bytes]]
"""A path, or a binary file object such as Streamlit's ``UploadedFile`` or ``io.BytesIO``."""

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".txt": "txt",
}  # fmt: skip
_UNDECODABLE = "could not decode file as UTF-8, UTF-16 or Windows-1252; save it as UTF-8 and upload again"
_BLOCK = 1 << 20
PREVIEW_ROWS = 20
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


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode a whole file as UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252.

    Returns (text, encoding). Raises UploadError when none fits, or the text holds NUL characters
    (a binary file, or UTF-16 without a BOM).
    """
    encoding = _detect_encoding(lambda: [raw])
    return raw.decode(encoding), encoding


def detect_format(filename: str) -> Format:
    """The format from the file name's extension; UploadError unless .csv .tsv .json .jsonl .txt (.tab .ndjson)."""
    extension = os.path.splitext(str(filename))[1].lower()
    if extension not in _EXTENSIONS:
        raise UploadError(
            f"Cannot import {filename!r}: unknown file type {extension or '(no extension)'!r}. Upload a .csv, "
            ".tsv, .json, .jsonl or .txt file (from Excel: File > Save As > CSV UTF-8)."
        )
    return _EXTENSIONS[extension]


def preview_upload(source: Source, filename: str) -> UploadPreview:
    """The first 20 rows of an upload, its columns and encoding, and a guess of the text column.

    ``n_rows`` is exact for files up to 5 MB (or with fewer than 20 rows), else None. Raises UploadError
    like :func:`iter_task_chunks` (except for the text column, which is not chosen yet).
    """
    with _open_rows(source, filename) as (fmt, encoding, size, columns, rows, _):
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

    Iterate it once. The counters grow while it streams and are final after the loop:
    ``n_rows == n_empty + n_duplicates + n_tasks``. ``bytes_read`` of ``size`` bytes (``fraction``) say
    how far into the file the last chunk reached: a progress measure that needs no row count.
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
        self._source, self._filename, self._text_column = source, filename, text_column
        self._data_key, self._chunk_size, self._keep_columns = data_key, chunk_size, keep_columns
        self._started = False
        self.n_rows = self.n_empty = self.n_duplicates = self.n_tasks = 0
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

    def _chunks(self) -> Iterator[list[dict[str, Any]]]:
        seen = _SeenTexts()
        chunk: list[dict[str, Any]] = []
        with _open_rows(self._source, self._filename) as (_, _, size, columns, rows, position):
            self.size = size
            if self._text_column not in columns:
                raise UploadError(
                    f"{self._filename}: no column {self._text_column!r}; columns found: "
                    f"{', '.join(map(repr, columns)) or 'none'}. Choose one of them as the text column."
                )
            for batch in iter(lambda: list(itertools.islice(rows, _DEDUP_BATCH)), []):
                self.n_rows += len(batch)
                texts = [_as_text(row.get(self._text_column)) for row in batch]
                keys = [text.strip() for text in texts]
                fresh = iter(seen.add_all([key for key in keys if key]))
                for row, text, key in zip(batch, texts, keys, strict=True):
                    if not key:
                        self.n_empty += 1
                    elif not next(fresh):
                        self.n_duplicates += 1
                    else:
                        chunk.append({"data": self._data(row, text)})
                        self.n_tasks += 1
                        if len(chunk) == self._chunk_size:
                            self.bytes_read = position()
                            yield chunk
                            chunk = []
        self.bytes_read = self.size
        if chunk:
            yield chunk


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


def read_labeled_csv(source: Source) -> pd.DataFrame:
    """Read a labeled CSV into a DataFrame with str columns ``text`` and ``label``, blank rows dropped.

    Column names are matched ignoring case and surrounding spaces; the delimiter (``,`` ``;`` tab ``|``)
    is guessed from the header. ``df.attrs["n_dropped"]`` counts rows dropped for a blank text or label.
    Raises UploadError for an undecodable, empty or malformed file, or no ``text``/``label`` column.
    """
    name = os.path.basename(str(getattr(source, "name", None) or source))
    with _text_stream(source, name) as (stream, _, _):
        columns, rows = _csv_rows(stream, "csv", name)
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


def _detect_encoding(blocks: Callable[[], Iterable[bytes]]) -> str:
    """First encoding that decodes every block (each ``blocks()`` call restarts from the start)."""
    head = next(iter(blocks()), b"")[:4]
    if head.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        candidates = ("utf-8", "cp1252")  # Python's cp1252 rejects its 5 undefined bytes
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        with contextlib.suppress(UnicodeDecodeError):
            if not any("\x00" in decoder.decode(block) for block in blocks()):
                decoder.decode(b"", final=True)
                return encoding
    raise UploadError(_UNDECODABLE)


@contextlib.contextmanager
def _text_stream(source: Source, filename: str) -> Iterator[tuple[IO[str], str, int]]:
    """(text stream, encoding, size in bytes), reading from the start; a caller's file object stays open."""
    with contextlib.ExitStack() as stack:
        if isinstance(source, (str, os.PathLike)):
            try:
                f: IO[bytes] = stack.enter_context(open(source, "rb"))  # noqa: SIM115
            except OSError as err:
                raise UploadError(f"Cannot open {os.fspath(source)!r}: {err.strerror}.") from err
        else:
            f = source if source.seekable() else io.BytesIO(source.read())

        def blocks() -> Iterator[bytes]:
            f.seek(0)
            yield from iter(lambda: f.read(_BLOCK), b"")

        try:
            encoding = _detect_encoding(blocks)
        except UploadError as err:
            raise UploadError(f"{filename}: {err}") from None
        size = f.seek(0, io.SEEK_END)
        f.seek(0)
        stream = io.TextIOWrapper(f, encoding=encoding, newline="")  # type: ignore[type-var]
        try:
            yield stream, encoding, size
        finally:
            stream.detach()


@contextlib.contextmanager
def _open_rows(
    source: Source, filename: str
) -> Iterator[tuple[Format, str, int, tuple[str, ...], Iterator[dict[str, Any]], Callable[[], int]]]:
    """(format, encoding, size, columns, rows, bytes read so far); JSON columns are the keys of the first 20 rows.

    The byte position runs ahead of the rows by what the text layer has buffered (a few KB).
    """
    fmt = detect_format(filename)
    with _text_stream(source, filename) as (stream, encoding, size):
        if fmt in ("csv", "tsv"):
            columns, rows = _csv_rows(stream, fmt, filename)
        else:
            rows = {"json": _json_rows, "jsonl": _jsonl_rows, "txt": _txt_rows}[fmt](stream, filename)
            head = list(itertools.islice(rows, PREVIEW_ROWS))
            columns = tuple(dict.fromkeys(key for row in head for key in row))
            rows = itertools.chain(head, rows)
        yield fmt, encoding, size, columns, rows, stream.buffer.tell


def _empty(filename: str, hint: str) -> UploadError:
    return UploadError(f"{filename}: the file is empty; upload {hint}.")


def _csv_rows(stream: IO[str], fmt: Format, filename: str) -> tuple[tuple[str, ...], Iterator[dict[str, Any]]]:
    first = stream.readline()
    while first and not first.strip():
        first = stream.readline()
    if not first:
        raise _empty(filename, "a file with a header row and one row per text")
    # Excel in many locales saves "CSV" with semicolons: the header line tells which delimiter is meant.
    counts = {d: first.count(d) for d in ",;\t|"}
    delimiter = "\t" if fmt == "tsv" else max(counts, key=counts.__getitem__) if any(counts.values()) else ","
    reader = csv.reader(itertools.chain([first], stream), delimiter=delimiter)
    columns = tuple(name.strip() or f"column_{i}" for i, name in enumerate(next(reader), start=1))
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise UploadError(f"{filename}: column names must be unique; {duplicates} appear more than once.")

    def rows() -> Iterator[dict[str, Any]]:
        try:
            for record in reader:
                if record:  # a blank line is not a row
                    yield dict(zip(columns, record + [""] * (len(columns) - len(record)), strict=False))
        except csv.Error as err:
            raise UploadError(
                f"{filename}: line {reader.line_num} is not valid {fmt.upper()} ({err}); an unclosed quote "
                "makes the rest of the file one field."
            ) from err

    return columns, rows()


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value if isinstance(value, str) else str(value)


def _row(item: Any, where: str, filename: str) -> dict[str, Any]:
    """A JSON item as a row: an object, Label Studio's {"data": {...}}, or a bare string."""
    if isinstance(item, dict):
        return item["data"] if isinstance(item.get("data"), dict) else item
    if isinstance(item, str):
        return {"text": item}
    raise UploadError(
        f'{filename}: {where} is {json.dumps(item)[:40]}, not an object or a string; write {{"text": "..."}}.'
    )


def _txt_rows(stream: IO[str], filename: str) -> Iterator[dict[str, Any]]:
    any_text = False
    for line in stream:
        any_text = any_text or bool(line.strip())
        yield {"text": line.rstrip("\r\n")}
    if not any_text:
        raise _empty(filename, "a file with one text per line")


def _jsonl_rows(stream: IO[str], filename: str) -> Iterator[dict[str, Any]]:
    any_item = False
    for line_no, line in enumerate(stream, start=1):
        if line.strip():
            try:
                item = json.loads(line)
            except json.JSONDecodeError as err:
                raise UploadError(
                    f"{filename}: line {line_no} is not valid JSON ({err.msg}, column {err.colno}); a .jsonl "
                    "file holds one JSON object per line."
                ) from err
            any_item = True
            yield _row(item, f"line {line_no}", filename)
    if not any_item:
        raise _empty(filename, 'one JSON object per line, e.g. {"text": "..."}')


def _json_rows(stream: IO[str], filename: str) -> Iterator[dict[str, Any]]:
    """Items of a top-level JSON list, decoded one at a time (json.load would hold the whole file)."""
    decoder, buf, pos, index = json.JSONDecoder(), "", 0, 0

    def fill() -> bool:  # append a block, dropping what was consumed; False at end of file
        nonlocal buf, pos
        block = stream.read(_BLOCK)
        buf, pos = buf[pos:] + block, 0
        return bool(block)

    def next_char() -> str:  # the next non-space character, "" at end of file
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos].isspace():
                pos += 1
            if pos < len(buf) or not fill():
                return buf[pos] if pos < len(buf) else ""

    if (first := next_char()) != "[":
        if not first:
            raise _empty(filename, 'a JSON list such as [{"text": "..."}]')
        raise UploadError(
            f"{filename}: the JSON holds {'an object' if first == '{' else 'a single value'}, not a list. Put the "
            'tasks in a list, [{"text": "..."}, ...], or upload JSON Lines (.jsonl), one object per line.'
        )
    pos += 1
    while (char := next_char()) != "]":
        if not char:
            raise UploadError(f"{filename}: the JSON list is not closed; it must end with ']'.")
        if index and char != ",":
            raise UploadError(f"{filename}: expected ',' or ']' after item {index} of the JSON list.")
        if index:
            pos += 1
            next_char()
        while True:
            try:
                item, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError as err:
                if fill():
                    continue
                raise UploadError(
                    f"{filename}: item {index + 1} of the JSON list is not valid JSON ({err.msg})."
                ) from err
            if end < len(buf) or not fill():  # an item ending at the block edge may be a cut number
                break
        pos, index = end, index + 1
        yield _row(item, f"item {index}", filename)
    pos += 1
    if next_char():
        raise UploadError(f"{filename}: unexpected data after the end of the JSON list.")


def _suggest_text_column(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str | None:
    """ "text" (any case) if present, else the column with the longest mean string length."""
    named = [c for c in columns if c == "text"] + [c for c in columns if c.lower() == "text"]
    lengths = {c: sum(len(v) for r in rows if isinstance(v := r.get(c), str)) for c in columns}
    return named[0] if named else max(columns, key=lengths.__getitem__, default=None)
