"""An upload's text as rows: CSV/TSV with a guessed delimiter, a JSON list item by item, JSON Lines, text lines."""

from __future__ import annotations

import io

import pytest

from al_core.errors import UploadError
from al_core.labelstudio import upload_rows
from al_core.labelstudio.upload_rows import TaskRow, check_rows, csv_rows, open_rows


def rows_of(text: str, fmt: str = "csv") -> tuple[tuple[str, ...], list[dict]]:
    columns, rows = csv_rows(io.StringIO(text, newline=""), fmt, f"x.{fmt}")  # type: ignore[arg-type]
    return columns, list(rows)


@pytest.mark.parametrize(
    ("header", "delimiter"), [("a,b", ","), ("a;b", ";"), ("a\tb", "\t"), ("a|b", "|"), ("a;b,c;d", ";")]
)
def test_the_delimiter_is_the_most_frequent_one_in_the_header(header, delimiter):
    columns, rows = rows_of(f"{header}\n1{delimiter}2{delimiter}3{delimiter}4\n")
    assert columns == tuple(header.split(delimiter))
    assert list(rows[0].values())[:2] == ["1", "2"]


def test_blank_lines_before_the_header_and_between_rows_are_skipped_and_short_rows_padded():
    assert rows_of("\n \nx, ,z\n1\n\n2,3,4,5\n") == (
        ("x", "column_2", "z"),
        [{"x": "1", "column_2": "", "z": ""}, {"x": "2", "column_2": "3", "z": "4"}],
    )


def test_a_tsv_is_split_on_tabs_even_when_the_header_holds_commas():
    assert rows_of("a,b\tc\n1,2\t3\n", "tsv") == (("a,b", "c"), [{"a,b": "1,2", "c": "3"}])


def test_repeated_column_names_are_refused():
    with pytest.raises(UploadError, match=r"^x\.csv: column names must be unique; \['a'\] appear more than once\.$"):
        rows_of("a,b,a\n1,2,3\n")


def test_an_unclosed_quote_names_the_line():
    # the quote runs to the end of the file: one field longer than the csv module's limit (131,072 characters)
    message = r"^x\.csv: line 3 is not valid CSV \(field larger than field limit \(131072\)\); an unclosed quote"
    with pytest.raises(UploadError, match=message):
        rows_of('text\nok\n"' + "x" * 200_000 + "\nmore\n")


def open_all(raw: bytes, filename: str) -> tuple[str, str, int, tuple[str, ...], list[dict]]:
    with open_rows(io.BytesIO(raw), filename) as (fmt, encoding, size, columns, rows, _):
        return fmt, encoding, size, columns, list(rows)


def test_json_columns_are_the_keys_of_the_first_rows_in_order():
    raw = b'[{"b": 1}, "plain", {"data": {"a": 2, "b": 3}}]'
    assert open_all(raw, "x.json") == (
        "json",
        "utf-8",
        len(raw),
        ("b", "text", "a"),
        [{"b": 1}, {"text": "plain"}, {"a": 2, "b": 3}],
    )


def test_jsonl_and_text_rows():
    assert open_all(b'{"text": "a"}\n\n"b"\n', "x.jsonl")[3:] == (("text",), [{"text": "a"}, {"text": "b"}])
    assert open_all(b"one\r\n\ntwo", "x.txt")[3:] == (("text",), [{"text": "one"}, {"text": ""}, {"text": "two"}])


def test_the_position_reaches_the_file_size_at_the_end():
    raw = b"text\n" + b"".join(b"row %d\n" % i for i in range(1000))
    with open_rows(io.BytesIO(raw), "x.csv") as (_, _, size, _, rows, position):
        assert sum(1 for _ in rows) == 1000
        assert position() == size == len(raw)


@pytest.mark.parametrize(
    ("text", "fmt", "line", "error"),
    [
        ('text\nok\n"unclosed\nmore\nstill more\n', "csv", 3, "unexpected end of data"),
        ('text\nok\n"unclosed\nmore\n"quoted"\nlast\n', "csv", 3, "',' expected after '\"'"),
        ('id\ttext\n1\tok\n\n2\t"unclosed\n3\tmore\n', "tsv", 4, "unexpected end of data"),
        ('text\n"a"b\n', "csv", 2, "',' expected after '\"'"),
    ],
)
def test_an_unclosed_quote_is_an_error_at_the_line_where_the_field_starts(text, fmt, line, error):
    # Python's csv reader without strict=True would make the following lines (or the rest of the file) one text
    message = rf"^x\.{fmt}: line {line} is not valid {fmt.upper()} \({error}\); an unclosed quote on that line"
    with pytest.raises(UploadError, match=message) as caught:
        rows_of(text, fmt)
    assert str(caught.value).endswith("Fix that line and upload again; nothing was imported.")


def test_a_quote_inside_an_unquoted_field_is_kept():
    assert rows_of('text\n5" screen\n')[1] == [{"text": '5" screen'}]


def test_an_unterminated_json_string_names_its_line_across_block_edges(monkeypatch):
    monkeypatch.setattr(upload_rows, "_BLOCK", 7)
    raw = b'[\n{"text": "a"},\n{"text": "b"},\n{"text": "unclosed},\n{"text": "c"}\n]'
    message = r"item 3 of the JSON list is not valid JSON \(Invalid control character at, line 4\); the item starts"
    with pytest.raises(UploadError, match=message + r" on line 4\. Fix it"):
        open_all(raw, "x.json")


def test_label_studio_tasks_are_task_rows_with_their_other_keys():
    rows = open_all(b'[{"data": {"text": "a"}, "annotations": [{"result": []}], "id": 3}, {"text": "b"}]', "x.json")[4]
    assert rows == [{"text": "a"}, {"text": "b"}]
    assert isinstance(rows[0], TaskRow) and rows[0].rest == {"annotations": [{"result": []}], "id": 3}
    assert not isinstance(rows[1], TaskRow)


def test_check_rows_reads_the_whole_file_and_returns_its_columns():
    assert check_rows(io.BytesIO(b"a,b\n1,2\n"), "x.csv") == ("a", "b")
    with pytest.raises(UploadError, match="line 1002 is not valid CSV"):
        check_rows(io.BytesIO(b"a\n" + b"row\n" * 1000 + b'"open\n'), "x.csv")


def test_a_text_file_has_no_quoting_a_quote_stays_on_its_line():
    assert open_all(b'"unclosed\nnext\n', "x.txt")[4] == [{"text": '"unclosed'}, {"text": "next"}]
