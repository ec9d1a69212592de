"""An upload's bytes as text: the format from the name, the encoding sniffed, a stream over a path or a file."""

from __future__ import annotations

import codecs
import io

import pytest

from al_core.errors import UploadError
from al_core.labelstudio import upload_text
from al_core.labelstudio.upload_text import decode_bytes, detect_encoding, detect_format, text_stream


def test_decode_bytes_prefers_utf8():
    assert decode_bytes("日本語".encode()) == ("日本語", "utf-8")


def test_unknown_format():
    with pytest.raises(UploadError, match=r"unknown file type '\.xlsx'.*\.csv"):
        detect_format("Book1.xlsx")
    with pytest.raises(UploadError, match=r"\(no extension\)"):
        detect_format("README")
    assert [detect_format(n) for n in ["a.CSV", "b.tsv", "c.json", "d.JSONL", "e.txt"]] == [
        "csv",
        "tsv",
        "json",
        "jsonl",
        "txt",
    ]


def test_the_other_extensions_name_their_formats():
    assert [detect_format(n) for n in ["a.tab", "b.ndjson", "dir.v2/c.Json"]] == ["tsv", "jsonl", "json"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (codecs.BOM_UTF8 + "é".encode(), "utf-8-sig"),
        ("é".encode("utf-16"), "utf-16"),  # Python writes the BOM
        ("é".encode(), "utf-8"),
        ("é".encode("cp1252"), "cp1252"),
        (b"", "utf-8"),
    ],
)
def test_the_encoding_is_the_first_that_decodes_every_block(raw, expected):
    assert detect_encoding(lambda: [raw]) == expected


def test_a_character_cut_at_a_block_edge_is_still_utf8():
    raw = "naïve".encode()
    cut = raw.index(b"\xc3") + 1  # the two bytes of ï in different blocks
    assert detect_encoding(lambda: [raw[:cut], raw[cut:]]) == "utf-8"


def test_an_undefined_cp1252_byte_or_a_nul_is_refused():
    with pytest.raises(UploadError, match=r"^could not decode file as UTF-8, UTF-16 or Windows-1252"):
        detect_encoding(lambda: [b"caf\xe9 \x81"])  # 0x81 is undefined in cp1252
    with pytest.raises(UploadError, match=r"could not decode"):
        detect_encoding(lambda: ["abc".encode("utf-16-le")])  # UTF-16 without a BOM: NULs in every other byte


def test_the_text_stream_reads_from_the_start_and_leaves_the_callers_file_open(monkeypatch):
    monkeypatch.setattr(upload_text, "_BLOCK", 2)  # many blocks for the sniffing pass
    raw = "text\ncafé\n".encode("cp1252")
    f = io.BytesIO(raw)
    f.seek(5)
    with text_stream(f, "x.csv") as (stream, encoding, size):
        assert (stream.read(), encoding, size) == ("text\ncafé\n", "cp1252", 10)
    assert not f.closed


def test_the_text_stream_of_a_path_and_of_a_missing_path(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(codecs.BOM_UTF8 + b"one\r\ntwo\n")
    with text_stream(path, "x.txt") as (stream, encoding, size):
        assert (stream.read(), encoding, size) == ("one\r\ntwo\n", "utf-8-sig", 12)  # newlines kept as written
    missing = r"^Cannot open '.*missing\.csv': No such file or directory\.$"
    with pytest.raises(UploadError, match=missing), text_stream(tmp_path / "missing.csv", "missing.csv"):
        pass


def test_an_undecodable_stream_names_the_file():
    undecodable = r"^bad\.csv: could not decode file as UTF-8"
    with pytest.raises(UploadError, match=undecodable), text_stream(io.BytesIO(b"\x00\x01"), "bad.csv"):
        pass
