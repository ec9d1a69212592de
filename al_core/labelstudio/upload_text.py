"""An upload's bytes as text: the format from the file name, the encoding sniffed, a text stream to read.

Used by ``upload_rows`` and ``uploads``; works on a path or on a binary file object (Streamlit's
``UploadedFile``, ``io.BytesIO``) and reads it in 1 MB blocks, so a large file is never held whole.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Literal, Union

from al_core.errors import UploadError

Format = Literal["csv", "tsv", "json", "jsonl", "txt"]
Source = Union[str, "os.PathLike[str]", IO[bytes]]
"""A path, or a binary file object such as Streamlit's ``UploadedFile`` or ``io.BytesIO``."""

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".txt": "txt",
}  # fmt: skip
_UNDECODABLE = "could not decode file as UTF-8, UTF-16 or Windows-1252; save it as UTF-8 and upload again"
_BLOCK = 1 << 20  # bytes read at once


def rereadable(source: Source) -> Source:
    """The source itself, or a non-seekable file object (a pipe) read into memory once, so it can be read twice."""
    if isinstance(source, (str, os.PathLike)) or source.seekable():
        return source
    return io.BytesIO(source.read())


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode a whole file as UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252.

    Returns (text, encoding). Raises UploadError when none fits, or the text holds NUL characters
    (a binary file, or UTF-16 without a BOM).
    """
    encoding = detect_encoding(lambda: [raw])
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


def detect_encoding(blocks: Callable[[], Iterable[bytes]]) -> str:
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
def text_stream(source: Source, filename: str) -> Iterator[tuple[IO[str], str, int]]:
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
            encoding = detect_encoding(blocks)
        except UploadError as err:
            raise UploadError(f"{filename}: {err}") from None
        size = f.seek(0, io.SEEK_END)
        f.seek(0)
        stream = io.TextIOWrapper(f, encoding=encoding, newline="")  # type: ignore[type-var]
        try:
            yield stream, encoding, size
        finally:
            stream.detach()
