"""An upload's text as rows (dicts of column -> value), one at a time: CSV and TSV (the delimiter guessed from
the header), a JSON list (decoded item by item), JSON Lines and plain text (one row a line).

Every reader raises UploadError naming the file, the line or item, and the fix.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from al_core.errors import UploadError
from al_core.labelstudio.upload_text import Format, Source, detect_format, text_stream

PREVIEW_ROWS = 20
_BLOCK = 1 << 20  # characters of a JSON list decoded at once


@contextlib.contextmanager
def open_rows(
    source: Source, filename: str
) -> Iterator[tuple[Format, str, int, tuple[str, ...], Iterator[dict[str, Any]], Callable[[], int]]]:
    """(format, encoding, size, columns, rows, bytes read so far); JSON columns are the keys of the first 20 rows.

    The byte position runs ahead of the rows by what the text layer has buffered (a few KB).
    """
    fmt = detect_format(filename)
    with text_stream(source, filename) as (stream, encoding, size):
        if fmt in ("csv", "tsv"):
            columns, rows = csv_rows(stream, fmt, filename)
        else:
            rows = {"json": _json_rows, "jsonl": _jsonl_rows, "txt": _txt_rows}[fmt](stream, filename)
            head = list(itertools.islice(rows, PREVIEW_ROWS))
            columns = tuple(dict.fromkeys(key for row in head for key in row))
            rows = itertools.chain(head, rows)
        yield fmt, encoding, size, columns, rows, stream.buffer.tell


def _empty(filename: str, hint: str) -> UploadError:
    return UploadError(f"{filename}: the file is empty; upload {hint}.")


def csv_rows(stream: IO[str], fmt: Format, filename: str) -> tuple[tuple[str, ...], Iterator[dict[str, Any]]]:
    """(columns, rows) of a CSV or TSV stream: a blank header name becomes ``column_<n>``, short rows are padded
    with "", blank lines skipped. Raises UploadError for an empty file, repeated column names or bad quoting."""
    first = stream.readline()
    while first and not first.strip():
        first = stream.readline()
    if not first:
        raise _empty(filename, "a file with a header row and one row per text")
    # Excel in many locales saves "CSV" with semicolons: the header line tells which delimiter is meant.
    counts = {d: first.count(d) for d in ",;\t|"}
    delimiter = "\t" if fmt == "tsv" else max(counts, key=counts.__getitem__) if any(counts.values()) else ","
    # strict: an unclosed quote raises instead of swallowing the following lines (or the rest of the file)
    reader = csv.reader(itertools.chain([first], stream), delimiter=delimiter, strict=True)
    columns = tuple(name.strip() or f"column_{i}" for i, name in enumerate(next(reader), start=1))
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise UploadError(f"{filename}: column names must be unique; {duplicates} appear more than once.")

    def rows() -> Iterator[dict[str, Any]]:
        start = reader.line_num + 1  # the line where the record being read starts
        try:
            for record in reader:
                if record:  # a blank line is not a row
                    yield dict(zip(columns, record + [""] * (len(columns) - len(record)), strict=False))
                start = reader.line_num + 1
        except csv.Error as err:
            raise UploadError(
                f"{filename}: line {start} is not valid {fmt.upper()} ({err}); an unclosed quote on that line, or a "
                'quote inside a quoted field not written twice (""), runs the field on into the following lines. '
                "Fix that line and upload again; nothing was imported."
            ) from err

    return columns, rows()


class TaskRow(dict[str, Any]):
    """A row read from a Label Studio task ``{"data": {...}, "annotations": [...], ...}``: the task's data, and in
    ``rest`` the task's other keys (annotations, predictions, meta, ...) for the import to keep or count."""

    def __init__(self, data: dict[str, Any], rest: dict[str, Any]) -> None:
        super().__init__(data)
        self.rest = rest


def check_rows(source: Source, filename: str) -> tuple[str, ...]:
    """Read the whole file as rows without keeping them; return its columns.

    The cheap pass before an import sends anything: a malformed row anywhere (an unclosed quote, a broken JSON
    item) raises UploadError here, so a file is imported whole or not at all.
    """
    with open_rows(source, filename) as (_, _, _, columns, rows, _):
        for _ in rows:
            pass
    return columns


def _row(item: Any, where: str, filename: str) -> dict[str, Any]:
    """A JSON item as a row: an object, Label Studio's {"data": {...}, ...} (a TaskRow), or a bare string."""
    if isinstance(item, dict):
        if isinstance(item.get("data"), dict):
            return TaskRow(item["data"], {k: v for k, v in item.items() if k != "data"})
        return item
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
    decoder, buf, pos, index, lines_dropped = json.JSONDecoder(), "", 0, 0, 0

    def fill() -> bool:  # append a block, dropping what was consumed; False at end of file
        nonlocal buf, pos, lines_dropped
        block = stream.read(_BLOCK)
        lines_dropped += buf.count("\n", 0, pos)
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
                line, start = lines_dropped + err.lineno, lines_dropped + buf.count("\n", 0, pos) + 1  # before fill
                if fill():
                    continue
                raise UploadError(
                    f"{filename}: item {index + 1} of the JSON list is not valid JSON ({err.msg}, line {line}); the "
                    f"item starts on line {start}. Fix it and upload again; nothing was imported."
                ) from err
            if end < len(buf) or not fill():  # an item ending at the block edge may be a cut number
                break
        pos, index = end, index + 1
        yield _row(item, f"item {index}", filename)
    pos += 1
    if next_char():
        raise UploadError(f"{filename}: unexpected data after the end of the JSON list.")
