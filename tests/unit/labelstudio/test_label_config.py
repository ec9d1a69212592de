"""Tests of al_core.labelstudio.label_config: parsing labeling configs, building them, prediction results."""

from __future__ import annotations

import pytest
from label_studio_sdk.label_interface import LabelInterface

from al_core.errors import ConfigError, LabelConfigError
from al_core.labelstudio.label_config import (
    TEMPLATES,
    LabelSpec,
    build_config,
    choices_controls,
    parse_label_config,
    prediction_result,
)

TWO_BLOCKS = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
  <Choices name="topic" toName="text" choice="multiple">
    <Choice value="Sports"/><Choice value="Politics"/><Choice value="Tech"/>
  </Choices>
</View>"""


def test_sentiment_template_parses_to_its_spec():
    spec = parse_label_config(TEMPLATES["sentiment"])
    assert spec == LabelSpec(
        object_name="text",
        object_tag="Text",
        data_key="text",
        control_name="sentiment",
        labels=("Positive", "Negative", "Neutral"),
        multiple=False,
    )


def test_sentiment_template_is_label_studios_active_learning_example():
    expected = (
        '<View>\n  <Text name="text" value="$text"/>\n'
        '  <Choices name="sentiment" toName="text" choice="single" showInLine="true">\n'
        '    <Choice value="Positive"/>\n    <Choice value="Negative"/>\n    <Choice value="Neutral"/>\n'
        "  </Choices>\n</View>"
    )
    assert TEMPLATES["sentiment"] == expected
    assert build_config(["Positive", "Negative", "Neutral"], control_name="sentiment") == expected


@pytest.mark.parametrize("name", ["sentiment", "topic", "intent"])
def test_every_template_is_single_choice_and_valid(name):
    spec = parse_label_config(TEMPLATES[name])
    assert not spec.multiple
    assert spec.data_key == "text"
    assert len(spec.labels) >= 3


def test_topic_and_intent_templates():
    assert parse_label_config(TEMPLATES["topic"]).labels == ("World", "Sports", "Business", "Sci/Tech")
    intent = parse_label_config(TEMPLATES["intent"])
    assert intent.control_name == "intent"
    assert len(intent.labels) == 15


def test_multiple_choice_config():
    xml = (
        '<View><HyperText name="page" value="$html"/><Choices name="tags" toName="page" choice="multiple">'
        '<Choice value="A"/><Choice value="B"/></Choices></View>'
    )
    spec = parse_label_config(xml)
    assert spec.multiple
    assert (spec.object_tag, spec.data_key, spec.labels) == ("HyperText", "html", ("A", "B"))


def test_two_choices_blocks_need_a_choice_and_the_error_lists_them():
    assert choices_controls(TWO_BLOCKS) == ("sentiment", "topic")
    with pytest.raises(LabelConfigError, match=r"2 <Choices> over text: 'sentiment', 'topic'"):
        parse_label_config(TWO_BLOCKS)


def test_picking_one_of_two_choices_blocks():
    topic = parse_label_config(TWO_BLOCKS, control="topic")
    assert (topic.control_name, topic.labels, topic.multiple) == (
        "topic",
        ("Sports", "Politics", "Tech"),
        True,
    )
    assert parse_label_config(TWO_BLOCKS, control="sentiment").labels == ("Positive", "Negative")


def test_picking_an_unknown_control_lists_the_known_ones():
    with pytest.raises(LabelConfigError, match=r"no <Choices name=\"color\">.*'sentiment', 'topic'"):
        parse_label_config(TWO_BLOCKS, control="color")


@pytest.mark.parametrize("xml", ['<View><Text name="t" value="$x"><Choices></View>', "not xml at all", "   "])
def test_malformed_xml_raises_label_config_error(xml):
    with pytest.raises(LabelConfigError, match="labeling config") as info:
        parse_label_config(xml)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)


def test_malformed_xml_carries_the_parser_message():
    with pytest.raises(LabelConfigError, match="not valid XML: Opening and ending tag mismatch"):
        parse_label_config('<View><Text name="t" value="$x"><Choices></View>')


def test_no_choices():
    xml = '<View><Text name="text" value="$text"/><TextArea name="answer" toName="text"/></View>'
    with pytest.raises(LabelConfigError, match=r"^This labeling config has no <Choices> over a text object; .*e\.g\."):
        parse_label_config(xml)
    assert choices_controls(xml) == ()


def test_choices_over_an_image_is_not_text_classification():
    xml = '<View><Image name="img" value="$image"/><Choices name="c" toName="img"><Choice value="a"/></Choices></View>'
    with pytest.raises(
        LabelConfigError, match=r"no <Choices> over a text object.*found: <Choices name=\"c\"> over <Image"
    ):
        parse_label_config(xml)


def test_choices_to_name_pointing_at_a_missing_object():
    xml = '<View><Text name="text" value="$text"/><Choices name="c" toName="txt"><Choice value="a"/></Choices></View>'
    with pytest.raises(LabelConfigError, match=r"toName=\"txt\", but no object tag is named \['txt'\].*\['text'\]"):
        parse_label_config(xml)


def test_choices_without_choice_values():
    xml = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"></Choices></View>'
    with pytest.raises(LabelConfigError, match=r'<Choices name="c"> has no <Choice value='):
        parse_label_config(xml)


def test_dynamic_choices_are_refused():
    xml = '<View><Text name="text" value="$text"/><Choices name="c" toName="text" value="$options"/></View>'
    with pytest.raises(LabelConfigError, match=r"takes its choices from task data \(value=\"\$options\"\)"):
        parse_label_config(xml)


def test_text_that_is_not_a_task_field():
    xml = '<View><Text name="t" value="static words"/><Choices name="c" toName="t"><Choice value="a"/></Choices></View>'
    with pytest.raises(LabelConfigError, match=r'use value="\$text"'):
        parse_label_config(xml)


def test_aliases_nested_views_lowercase_tags_and_xml_declaration():
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><View><text name="t" value="$review"/>'
        '<choices name="c" toName="t"><View><choice value="Good" alias="pos"/></View><choice value="Bad"/></choices>'
        "</View>"
    )
    spec = parse_label_config(xml)
    assert (spec.object_tag, spec.data_key, spec.labels) == ("Text", "review", ("pos", "Bad"))


def test_per_region_choices_are_not_task_classification():
    xml = (
        '<View><Text name="text" value="$text"/><Choices name="doc" toName="text"><Choice value="a"/></Choices>'
        '<Choices name="span" toName="text" perRegion="true"><Choice value="b"/></Choices></View>'
    )
    assert choices_controls(xml) == ("doc",)
    assert parse_label_config(xml).control_name == "doc"


def test_doctype_is_refused():
    xml = '<!DOCTYPE v [<!ENTITY e "x">]><View><Text name="t" value="$x"/></View>'
    with pytest.raises(LabelConfigError, match="DOCTYPE"):
        parse_label_config(xml)


@pytest.mark.parametrize("multiple", [False, True])
def test_labels_with_ampersands_and_quotes_round_trip(multiple):
    labels = ["R&D", 'say "hi"', "it's", "<b>", "both ' and \""]
    xml = build_config(labels, data_key="body", control_name="category", multiple=multiple)
    spec = parse_label_config(xml)
    assert spec.labels == tuple(labels)
    assert (spec.data_key, spec.control_name, spec.multiple) == ("body", "category", multiple)
    assert "R&amp;D" in xml


def test_build_config_strips_labels_and_lays_long_lists_out_in_a_column():
    xml = build_config([f" L{i} " for i in range(10)])
    assert "showInLine" not in xml
    assert parse_label_config(xml).labels == tuple(f"L{i}" for i in range(10))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"labels": []}, "non-empty"),
        ({"labels": ["a", " "]}, "non-empty"),
        ({"labels": ["a", "b", "a "]}, r"unique; \['a'\]"),
        ({"labels": "ab"}, "list of strings"),
        ({"labels": ["a"], "data_key": "my text"}, r"'data_key' parameter .* Got 'my text' instead"),
        ({"labels": ["a"], "control_name": "text"}, r"'control_name' parameter .* Got 'text' instead"),
        ({"labels": ["a"], "control_name": "1st label"}, "'control_name' parameter"),
    ],
)
def test_build_config_rejects_bad_input(kwargs, message):
    labels = kwargs.pop("labels")
    with pytest.raises(LabelConfigError, match=message):
        build_config(labels, **kwargs)


def test_prediction_result_single_choice_is_valid_for_label_studio():
    spec = parse_label_config(TEMPLATES["sentiment"])
    result = prediction_result(spec, "Negative")
    assert result == [
        {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Negative"]}}
    ]
    assert LabelInterface(TEMPLATES["sentiment"]).validate_prediction({"result": result, "score": 0.5})


def test_prediction_result_multiple_choice_and_empty():
    spec = parse_label_config(TWO_BLOCKS, control="topic")
    assert prediction_result(spec, ["Tech", "Sports", "Tech"])[0]["value"] == {"choices": ["Tech", "Sports"]}
    assert prediction_result(spec, []) == []


def test_prediction_result_errors():
    spec = parse_label_config(TEMPLATES["sentiment"])
    with pytest.raises(LabelConfigError, match=r"Labels \['Angry'\] are not choices"):
        prediction_result(spec, "Angry")
    with pytest.raises(LabelConfigError, match="single-choice but got 2 labels"):
        prediction_result(spec, ["Positive", "Negative"])
