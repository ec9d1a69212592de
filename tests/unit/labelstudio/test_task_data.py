"""Tests of al_core.labelstudio.task_data: a task's text read the way Label Studio shows it."""

from __future__ import annotations

import pytest

from al_core.errors import ConfigError, LabelConfigError
from al_core.labelstudio.label_config import LabelSpec, parse_label_config
from al_core.labelstudio.task_data import field_value, html_text, refuse_unreadable, task_text

SPEC = LabelSpec("text", "Text", "text", "sentiment", ("Positive", "Negative"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", "hello"),
        (42, "42"),
        (float("nan"), None),
        ("", None),
        ("  \n", None),
        (None, None),
        ([{"author": "a", "text": "hi"}, {"author": "b", "text": "yo"}], "hi\nyo"),
    ],
)
def test_task_text(value, expected):
    assert task_text({"text": value}, SPEC) == expected


def test_task_text_missing_key():
    assert task_text({"other": "x"}, SPEC) is None


def test_nested_fields_are_followed_like_label_studio_does():
    data = {"review": {"body": "Great value", "stars": 3}, "turns": [{"text": "hi"}, {"text": "bye"}]}
    assert field_value(data, "review.body") == "Great value"
    assert field_value(data, "review.stars") == 3
    assert field_value(data, "turns.1.text") == "bye"
    assert field_value(data, "review.title") is None and field_value(data, "turns.5.text") is None
    assert field_value({"review.body": "flat wins", "review": {"body": "nested"}}, "review.body") == "flat wins"
    spec = parse_label_config(
        '<View><Text name="t" value="$review.body"/><Choices name="c" toName="t"><Choice value="a"/><Choice value="b"/></Choices></View>'
    )
    assert spec.data_key == "review.body"
    assert task_text(data, spec) == "Great value"


def test_hypertext_is_the_text_a_person_reads():
    html = "<html><head><style>p{}</style></head><body><h1>Title</h1><p>Caf&eacute; &amp; <b>bar</b></p><script>x()</script></body></html>"
    assert html_text(html) == "Title\nCafé & bar"
    spec = parse_label_config(
        '<View><HyperText name="h" value="$html"/><Choices name="c" toName="h"><Choice value="a"/><Choice value="b"/></Choices></View>'
    )
    assert spec.object_tag == "HyperText"
    assert task_text({"html": html}, spec) == "Title\nCafé & bar"
    assert task_text({"html": "<p> </p><script>only()</script>"}, spec) is None


def test_paragraphs_read_the_text_key_of_the_tag():
    config = (
        '<View><Paragraphs name="p" value="$dialogue" layout="dialogue" nameKey="speaker" textKey="line"/>'
        '<Choices name="c" toName="p"><Choice value="a"/><Choice value="b"/></Choices></View>'
    )
    spec = parse_label_config(config)
    assert (spec.object_tag, spec.text_key) == ("Paragraphs", "line")
    dialogue = [{"speaker": "A", "line": "Hello"}, {"speaker": "B", "line": "Hi there"}, {"speaker": "C"}]
    assert task_text({"dialogue": dialogue}, spec) == "Hello\nHi there"
    assert task_text({"dialogue": "not a list"}, spec) is None


def test_a_text_behind_a_url_is_refused_in_one_line():
    config = '<View><Text name="text" value="$text" valueType="url"/><Choices name="c" toName="text"><Choice value="a"/><Choice value="b"/></Choices></View>'
    with pytest.raises(LabelConfigError, match=r'valueType="url"> shows a text that Label Studio downloads') as err:
        parse_label_config(config)
    assert "\n" not in str(err.value)


def test_no_readable_task_is_refused_in_one_line():
    spec = LabelSpec("doc", "Text", "review.body", "sentiment", ("pos", "neg"))
    with pytest.raises(
        ConfigError,
        match=r"^None of the 1,200 tasks has a text at \$review\.body \(the value of <Text name='doc'>\): check",
    ):
        refuse_unreadable(spec, 1200, 0, 1200)
    refuse_unreadable(spec, 1200, 1, 1199)  # one readable task is enough: the rest are counted, not refused
    refuse_unreadable(spec, 0, 0, 0)  # an empty project is not refused here (nothing to read yet)
