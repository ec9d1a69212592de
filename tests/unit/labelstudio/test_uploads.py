"""Tests of al_core.labelstudio.uploads: files -> Label Studio task dicts, streamed in chunks."""

from __future__ import annotations

import io
import json
import random
import tracemalloc
from pathlib import Path

import pytest

from al_core.errors import ConfigError, UploadError
from al_core.lab.sample import SAMPLE_CSV
from al_core.labelstudio import upload_rows, uploads
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.gateway_payloads import TaskImport
from al_core.labelstudio.upload_text import decode_bytes
from al_core.labelstudio.uploads import UploadPreview, iter_task_chunks, preview_upload, read_labeled_csv

SAMPLE = SAMPLE_CSV


def tasks_of(raw: bytes | str, filename: str, **kwargs) -> list[dict]:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    return [t for chunk in iter_task_chunks(io.BytesIO(data), filename, **kwargs) for t in chunk]


def texts_of(raw: bytes | str, filename: str, text_column: str = "text") -> list[str]:
    return [t["data"]["text"] for t in tasks_of(raw, filename, text_column=text_column)]


# --- formats -----------------------------------------------------------------------------------------


def test_csv_with_quotes_and_newlines_and_kept_columns():
    raw = 'id,review,stars\n1,"Great, really",5\n2,"two\nlines",1\n'
    tasks = tasks_of(raw, "r.csv", text_column="review", keep_columns=True)
    assert tasks == [
        {"data": {"id": "1", "stars": "5", "text": "Great, really"}},
        {"data": {"id": "2", "stars": "1", "text": "two\nlines"}},
    ]
    assert tasks_of(raw, "r.csv", text_column="review", data_key="body")[0] == {"data": {"body": "Great, really"}}


def test_semicolon_csv_from_a_european_excel():
    assert texts_of("text;label\nbonjour, toi;a\n", "x.csv") == ["bonjour, toi"]


def test_tsv():
    assert texts_of("label\ttext\npos\thello, world\nneg\tbye\n", "x.tsv") == ["hello, world", "bye"]


def test_json_list_of_objects_strings_and_label_studio_tasks():
    assert texts_of(json.dumps([{"text": "a", "n": 1}, {"text": "b"}]), "x.json") == ["a", "b"]
    assert texts_of(json.dumps(["a", "b"]), "x.json") == ["a", "b"]
    ls_tasks = [{"data": {"text": "a", "meta": 1}, "annotations": []}, {"data": {"text": "b"}}]
    assert tasks_of(json.dumps(ls_tasks), "x.json", text_column="text", keep_columns=True) == [
        {"data": {"meta": 1, "text": "a"}},
        {"data": {"text": "b"}},
    ]


def test_json_streaming_parser_across_block_edges(monkeypatch):
    monkeypatch.setattr(upload_rows, "_BLOCK", 5)
    items = [{"text": "héllo, [world]", "n": 123456789}, "  plain  ", {"text": "x", "nested": {"a": [1, 2]}}]
    raw = " \n[\n" + ",\n  ".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n]\n"
    tasks = tasks_of(raw, "x.json", text_column="text", keep_columns=True)
    assert [t["data"] for t in tasks] == [
        {"n": 123456789, "text": "héllo, [world]"},
        {"text": "  plain  "},
        {"nested": {"a": [1, 2]}, "text": "x"},
    ]


def test_jsonl_line_by_line_with_blank_lines():
    raw = '{"text": "a"}\n\n{"data": {"text": "b"}}\r\n"c"\n'
    assert texts_of(raw, "x.jsonl") == ["a", "b", "c"]


def test_txt_one_task_per_line():
    stream = iter_task_chunks(io.BytesIO(b"first\r\nsecond\n\nthird"), "notes.txt", text_column="text")
    assert [t["data"]["text"] for chunk in stream for t in chunk] == ["first", "second", "third"]
    assert (stream.n_rows, stream.n_empty) == (4, 1)


def test_path_input(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("text\nfrom a path\n", encoding="utf-8")
    assert [t for chunk in iter_task_chunks(path, path.name, text_column="text") for t in chunk] == [
        {"data": {"text": "from a path"}}
    ]


def test_non_seekable_file_object_and_caller_file_left_open():
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:
            chunk = self._data.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    assert [t for c in iter_task_chunks(Pipe(b"text\nx\n"), "p.csv", text_column="text") for t in c]
    f = io.BytesIO(b"text\ny\n")
    list(iter_task_chunks(f, "f.csv", text_column="text"))
    assert not f.closed


# --- encodings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-16", "utf-16"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252")]
)
def test_encodings(encoding, expected):
    raw = "text,label\ncafé à 5€,pos\nnaïve,neg\n".encode(encoding)
    assert texts_of(raw, "x.csv") == ["café à 5€", "naïve"]
    assert preview_upload(io.BytesIO(raw), "x.csv").encoding == expected
    assert decode_bytes(raw) == ("text,label\ncafé à 5€,pos\nnaïve,neg\n", expected)


@pytest.mark.parametrize("raw", [b"text\ncaf\xe9 \x81\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"])
def test_undecodable_bytes(raw):
    with pytest.raises(UploadError, match=r"could not decode file as UTF-8, UTF-16 or Windows-1252; save it"):
        decode_bytes(raw)
    with pytest.raises(UploadError, match=r"^bad\.csv: could not decode"):
        list(iter_task_chunks(io.BytesIO(raw), "bad.csv", text_column="text"))


# --- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("filename", ["x.csv", "x.tsv", "x.json", "x.jsonl", "x.txt"])
@pytest.mark.parametrize("raw", [b"", b" \n\n", b"\xef\xbb\xbf"])
def test_empty_file(filename, raw):
    with pytest.raises(UploadError, match=r"the file is empty"):
        list(iter_task_chunks(io.BytesIO(raw), filename, text_column="text"))


def test_missing_text_column_lists_the_columns_found():
    with pytest.raises(UploadError, match=r"no column 'text'; columns found: 'review', 'stars'"):
        tasks_of("review,stars\nok,5\n", "r.csv", text_column="text")
    with pytest.raises(UploadError, match=r"no column 'body'; columns found: 'text', 'id'"):
        tasks_of('[{"text": "a", "id": 1}]', "r.json", text_column="body")


def test_json_object_is_not_a_list():
    with pytest.raises(UploadError, match=r"x\.json: the JSON holds an object, not a list"):
        tasks_of('{"text": "a"}', "x.json", text_column="text")
    with pytest.raises(UploadError, match=r"holds a single value, not a list"):
        tasks_of('"a"', "x.json", text_column="text")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('[{"text": "a"}, {"text": }]', r"item 2 of the JSON list is not valid JSON"),
        ('[{"text": "a"} {"text": "b"}]', r"expected ',' or '\]' after item 1"),
        ('[{"text": "a"},', r"item 2 of the JSON list is not valid JSON"),
        ('[{"text": "a"}', r"not closed"),
        ('[{"text": "a"}] []', r"unexpected data after the end"),
        ('[{"text": "a"}, 3]', r"item 2 is 3, not an object or a string"),
    ],
)
def test_malformed_json(raw, message):
    with pytest.raises(UploadError, match=message):
        tasks_of(raw, "x.json", text_column="text")


def test_malformed_jsonl_names_the_line():
    with pytest.raises(UploadError, match=r"line 2 is not valid JSON"):
        tasks_of('{"text": "a"}\n{"text": \n', "x.jsonl", text_column="text")


def test_bad_parameters_and_second_iteration():
    with pytest.raises(ConfigError, match=r"'chunk_size' parameter must be an int in \[1, inf\). Got 0 instead"):
        iter_task_chunks(io.BytesIO(b"text\na\n"), "x.csv", text_column="text", chunk_size=0)
    stream = iter_task_chunks(io.BytesIO(b"text\na\n"), "x.csv", text_column="text")
    list(stream)
    with pytest.raises(RuntimeError, match="iterated once"):
        list(stream)


def test_malformed_csv_names_the_line():
    raw = "text\n" + 'ok\n"' + "x" * 200_000 + "\n"
    with pytest.raises(UploadError, match=r"line \d+ is not valid CSV .*unclosed quote"):
        tasks_of(raw, "x.csv", text_column="text")


# --- counters, chunks, streaming ---------------------------------------------------------------------


def test_duplicates_and_empty_rows_are_dropped_and_counted():
    raw = "text,label\nhello,a\n  hello ,b\n,c\n   ,d\nworld,e\nhello,f\n"
    stream = iter_task_chunks(io.BytesIO(raw.encode()), "x.csv", text_column="text", chunk_size=1)
    chunks = list(stream)
    assert chunks == [[{"data": {"text": "hello"}}], [{"data": {"text": "world"}}]]
    assert (stream.n_rows, stream.n_empty, stream.n_duplicates, stream.n_tasks) == (6, 2, 2, 2)


def write_big_csv(path: Path, n_rows: int) -> None:
    rng = random.Random(0)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("id,text,label\n")
        for i in range(n_rows):
            text = " ".join(rng.choice(words) for _ in range(12))
            f.write(f'{i},"{text} #{i}, ok",{rng.choice("abc")}\n')


def test_big_csv_streams_in_chunks(tmp_path):
    path = tmp_path / "big.csv"
    write_big_csv(path, 60_000)
    size = path.stat().st_size
    assert 5_000_000 < size < 7_000_000
    with path.open("rb") as f:
        stream = iter_task_chunks(f, "big.csv", text_column="text", chunk_size=1000)
        chunks = iter(stream)
        first = next(chunks)
        assert f.tell() < size / 4  # the first chunk came before the file was read through
        sizes = [len(first)] + [len(c) for c in chunks]
    assert sizes == [1000] * 60
    assert (stream.n_rows, stream.n_tasks, stream.n_duplicates, stream.n_empty) == (60_000, 60_000, 0, 0)
    assert first[0]["data"]["text"].endswith("#0, ok")


def test_big_csv_last_chunk_is_partial(tmp_path):
    path = tmp_path / "big.csv"
    write_big_csv(path, 2_500)
    sizes = [len(c) for c in iter_task_chunks(path, "big.csv", text_column="text", chunk_size=1000)]
    assert sizes == [1000, 1000, 500]


def write_50mb_csv(path: Path, n_rows: int = 50_000) -> int:
    """~1 KB per row (a support ticket, a review), written in a blink; returns the size in bytes."""
    filler = " ".join(["alpha beta gamma delta epsilon"] * 34)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("id,text,label\n")
        f.writelines(f'{i},"#{i} {filler}, ok",{"abc"[i % 3]}\n' for i in range(n_rows))
    return path.stat().st_size


def test_a_50_mb_csv_is_imported_in_chunks_with_progress_in_bounded_memory(tmp_path, monkeypatch):
    path = tmp_path / "tickets.csv"
    size = write_50mb_csv(path)
    assert 50_000_000 < size < 56_000_000
    gateway = Gateway("http://127.0.0.1:9", "unit-test-key")  # no server: the request layer is replaced
    sent: list[int] = []

    def fake_request(method, url_path, what, *, body=None, **_):
        if method == "GET":  # the project's task count, read before each request (to check what landed on a failure)
            return {"task_number": sum(sent)}
        sent.append(len(body))
        return {"task_count": len(body)}

    monkeypatch.setattr(gateway, "_raw", fake_request)
    progress: list[tuple[int, float]] = []
    tracemalloc.start()
    try:
        with path.open("rb") as f:
            stream = iter_task_chunks(f, path.name, text_column="text", chunk_size=1000)
            created = gateway.import_tasks(
                7, stream, on_progress=lambda done, _: progress.append((done, stream.fraction))
            )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Measured: 5.8 MB for this 54 MB file (the file is never held whole; one chunk is ~1 MB of text).
    assert peak < 12_000_000, f"peak {peak / 1e6:.1f} MB while streaming a {size / 1e6:.0f} MB file"
    assert sent == [1000] * 50 and created == stream.n_tasks == 50_000
    done, fractions = zip(*progress, strict=True)
    assert list(done) == list(range(1000, 50_001, 1000))
    assert all(a <= b for a, b in zip(fractions, fractions[1:], strict=False)), "progress never goes back"
    assert fractions[0] < 0.05 and fractions[-1] == 1.0


def test_the_duplicate_check_keeps_bytes_per_text_not_the_texts():
    texts = [f"text number {i}" for i in range(200_000)]
    tracemalloc.start()
    try:
        seen = uploads._SeenTexts()
        for start in range(0, len(texts), 1024):
            assert all(seen.add_all(texts[start : start + 1024]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Measured ~25 bytes per text at the peak of a merge (8 when settled); a Python set of the hashes: ~90.
    assert peak / len(texts) < 40, f"{peak / len(texts):.0f} bytes per text"
    assert not any(seen.add_all(texts[:3] + texts[-3:] + texts[100_000:100_003]))


def test_duplicates_far_apart_are_found_across_batches_and_merges(monkeypatch):
    monkeypatch.setattr(uploads, "_DEDUP_BATCH", 3)
    monkeypatch.setattr(uploads._SeenTexts, "_RECENT_MAX", 4)
    rows = [f"t{i}" for i in range(20)] + ["t0", "  ", "t19", "t7", "new", "t7"]
    stream = iter_task_chunks(io.BytesIO(("text\n" + "\n".join(rows) + "\n").encode()), "x.csv", text_column="text",
                              chunk_size=7)  # fmt: skip
    chunks = list(stream)
    assert [t["data"]["text"] for c in chunks for t in c] == [f"t{i}" for i in range(20)] + ["new"]
    assert [len(c) for c in chunks] == [7, 7, 7]
    assert (stream.n_rows, stream.n_empty, stream.n_duplicates, stream.n_tasks) == (26, 1, 4, 21)


# --- preview -----------------------------------------------------------------------------------------


def test_preview_csv():
    raw = "id,text,label\n" + "".join(f"{i},text {i},pos\n" for i in range(25))
    preview = preview_upload(io.BytesIO(raw.encode()), "x.csv")
    assert isinstance(preview, UploadPreview)
    assert (preview.format, preview.encoding, preview.columns) == ("csv", "utf-8", ("id", "text", "label"))
    assert len(preview.rows) == 20 and preview.rows[0] == {"id": "0", "text": "text 0", "label": "pos"}
    assert (preview.n_rows, preview.suggested_text_column) == (25, "text")


def test_preview_suggests_the_longest_column_and_json_columns():
    raw = json.dumps([{"id": 1, "review": "a long review here", "tag": "x"}, {"id": 2, "review": "b", "extra": "y"}])
    preview = preview_upload(io.BytesIO(raw.encode()), "x.json")
    assert preview.columns == ("id", "review", "tag", "extra")
    assert (preview.n_rows, preview.suggested_text_column) == (2, "review")


def test_preview_of_a_large_file_does_not_count(tmp_path):
    path = tmp_path / "big.csv"
    write_big_csv(path, 60_000)
    preview = preview_upload(path, "big.csv")
    assert (preview.n_rows, len(preview.rows), preview.suggested_text_column) == (None, 20, "text")


# --- labeled CSV -------------------------------------------------------------------------------------


def test_read_labeled_csv_sample_data():
    df = read_labeled_csv(SAMPLE)
    assert list(df.columns) == ["text", "label"]
    assert len(df) == 2250 and df["label"].nunique() == 15


def test_read_labeled_csv_drops_blank_rows_and_matches_columns_loosely():
    raw = " Text ;LABEL\nhello;pos\n;neg\nbye; \nok; neg \n".encode("cp1252")
    df = read_labeled_csv(io.BytesIO(raw))
    assert df.to_dict("records") == [{"text": "hello", "label": "pos"}, {"text": "ok", "label": "neg"}]
    assert df.attrs["n_dropped"] == 2


def test_read_labeled_csv_missing_columns():
    with pytest.raises(
        UploadError, match=r"needs columns 'text' and 'label'; missing \['label'\], found \['text', 'y'\]"
    ):
        read_labeled_csv(io.BytesIO(b"text,y\na,b\n"))


# --- nothing imported from a malformed file; Label Studio's own task format ----------------------------------------


def test_a_malformed_row_after_the_first_chunk_raises_before_the_first_chunk_leaves():
    raw = "text\n" + "".join(f"row {i}\n" for i in range(50)) + '"unclosed\nmore\n'
    chunks = iter(iter_task_chunks(io.BytesIO(raw.encode()), "x.csv", text_column="text", chunk_size=10))
    with pytest.raises(UploadError, match=r"^x\.csv: line 52 is not valid CSV \(unexpected end of data\)"):
        next(chunks)


def test_a_pipe_is_read_once_for_the_check_and_the_import():
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:
            chunk = self._data.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    assert [t for c in iter_task_chunks(Pipe(b"text\nx\ny\n"), "p.csv", text_column="text") for t in c] == [
        {"data": {"text": "x"}},
        {"data": {"text": "y"}},
    ]


def test_read_labeled_csv_refuses_an_unclosed_quote_naming_its_line():
    with pytest.raises(UploadError, match=r"^lab\.csv: line 3 is not valid CSV \(unexpected end of data\)"):
        read_labeled_csv(_named(b'text,label\ngood,pos\n"bad,neg\nugly,neg\n', "lab.csv"))


def _named(raw: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(raw)
    f.name = name
    return f


def test_task_extras_keep_what_label_studio_imports_and_count_the_rest():
    rest = {
        "id": 9,
        "annotations": [
            {"id": 1, "result": [{"x": 1}], "completed_by": 42, "task": 9, "ground_truth": False},
            {"result": "not a list"},
            "not an object",
        ],
        "predictions": [{"result": [], "score": 0.2, "model_version": "m", "task": 9, "id": 4}],
        "meta": {"source": "crm"},
        "drafts": [{}, {}],
    }
    extras, counts = uploads.task_extras(rest)
    assert extras == {
        "annotations": [{"result": [{"x": 1}], "ground_truth": False, "id": 1}],
        "predictions": [{"result": [], "score": 0.2, "model_version": "m"}],
        "meta": {"source": "crm"},
    }
    assert counts == {"annotations without a result list": 2, "annotator ids": 1, "drafts": 2}
    assert uploads.task_extras({"annotations": [], "total_annotations": 0}) == ({}, {})


def test_label_studio_tasks_are_imported_with_annotations_and_what_is_left_out_is_said():
    tasks = [
        {"data": {"text": "a"}, "annotations": [{"result": [1], "completed_by": 3}], "predictions": [{"result": []}]},
        {"data": {"text": "a"}, "annotations": [{"result": [2]}, {"result": [3]}]},
        {"data": {"text": ""}, "predictions": [{"result": []}]},
        {"data": {"text": "b"}, "drafts": [{"result": []}]},
    ]
    stream = iter_task_chunks(io.BytesIO(json.dumps(tasks).encode()), "x.json", text_column="text")
    assert [t for c in stream for t in c] == [
        {"data": {"text": "a"}, "annotations": [{"result": [1]}], "predictions": [{"result": []}]},
        {"data": {"text": "b"}},
    ]
    assert (stream.n_tasks, stream.n_annotations, stream.n_predictions) == (2, 1, 1)
    report = uploads.import_report(stream, TaskImport(2, 1, 0, 2, 1, 1))
    assert report.summary == "Created 2 tasks with 1 annotations and 0 predictions from 4 rows."
    assert report.warnings == (
        "1 row with an empty text left out.",
        "1 row repeating an earlier text left out.",
        "2 annotations on rows repeating an earlier text left out.",
        "1 annotation names an annotator of another server: counted as made by you (the key's user).",
        "1 draft left out (Label Studio imports submitted annotations).",
        "1 prediction on rows with an empty text left out.",
        "Label Studio created 0 of the 1 predictions it was sent; the other 1 were left out (see its server log).",
    )
