"""Read a Label Studio labeling config into what text classification needs, and build such configs.

Parsing goes through the SDK's ``LabelInterface`` (the same parser label-studio-ml-backend uses);
plain XML parsing is only a fallback for what it misses (lower-case ``<choice>`` tags).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn
from xml.sax.saxutils import quoteattr

from al_core.errors import LabelConfigError

if TYPE_CHECKING:  # importing the SDK takes ~1 s: modules that only need LabelSpec should not pay it
    from label_studio_sdk.label_interface import LabelInterface
    from label_studio_sdk.label_interface.control_tags import ControlTag
    from label_studio_sdk.label_interface.object_tags import ObjectTag

# Object tags whose task data is text; the value is the canonical spelling of the tag.
TEXT_OBJECT_TAGS: dict[str, str] = {"text": "Text", "hypertext": "HyperText", "paragraphs": "Paragraphs"}

_EXAMPLE = (
    '<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
    '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>'
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_CONTROL_NAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
_DATA_KEY = re.compile(r"^[^\s,$]+$")
_INLINE_MAX = 6  # more choices than this read better as a column than on one line


@dataclass(frozen=True)
class LabelSpec:
    """The one ``<Choices>`` block a classifier is trained for, and the text object it labels.

    ``labels`` keeps the config order; ``data_key`` is the task data field (``value="$text"`` -> ``"text"``).
    """

    object_name: str
    object_tag: str
    data_key: str
    control_name: str
    labels: tuple[str, ...]
    multiple: bool = False
    text_key: str = "text"  # <Paragraphs textKey=...>: where each paragraph's text is


def choices_controls(xml: str) -> tuple[str, ...]:
    """Names of the ``<Choices>`` controls that label a text-like object, in config order.

    Raises:
        LabelConfigError: the config is not valid XML.
    """
    return tuple(c.name for c in _text_choices(_interface(xml)))


def parse_label_config(xml: str, control: str | None = None) -> LabelSpec:
    """Find the ``<Choices>`` block to classify texts with.

    Args:
        xml: the project's labeling config.
        control: name of the ``<Choices>`` to use; needed only when the config has several.

    Returns:
        The :class:`LabelSpec` of that block.

    Raises:
        LabelConfigError: malformed XML, no ``<Choices>`` over a text object, several of them and no
            ``control``, an unknown ``control``, a ``toName`` naming no object, or no ``<Choice>`` values.
    """
    li = _interface(xml)
    all_choices = [c for c in _controls(li) if _is_choices(c)]
    candidates = _text_choices(li)
    if control is not None:
        chosen = next((c for c in all_choices if c.name == control), None)
        if chosen is None:
            raise LabelConfigError(
                f"There is no <Choices name={quoteattr(control)}> in this labeling config; "
                f"its <Choices> over text are: {_names(candidates)}."
            )
    elif len(candidates) > 1:
        raise LabelConfigError(
            f"This labeling config has {len(candidates)} <Choices> over text: {_names(candidates)}; "
            "choose which one the model learns (control=...: `iterate --control NAME` on the command line, "
            '"Which <Choices> the model learns" on the Active learning page, and the Automation page\'s settings '
            "for automatic runs)."
        )
    elif candidates:
        chosen = candidates[0]
    else:
        _explain_no_candidate(li, all_choices)
    obj = _text_object(chosen, li)
    _refuse_url_values(obj)
    return LabelSpec(
        object_name=str(obj.name),
        object_tag=TEXT_OBJECT_TAGS[obj.tag.lower()],
        data_key=obj.value_name,
        control_name=str(chosen.name),
        labels=_labels(chosen, xml),
        multiple=chosen.attr.get("choice") == "multiple",
        text_key=str(obj.attr.get("textKey") or "text"),
    )


def _refuse_url_values(obj: ObjectTag) -> None:
    """Tasks that hold a link to their text (``valueType="url"``): refused before anything changes."""
    if str(obj.attr.get("valueType", "")).strip().lower() == "url":
        raise LabelConfigError(
            f'<{obj.tag} name={quoteattr(str(obj.name))} valueType="url"> shows a text that Label Studio downloads '
            "from a link in each task; this dashboard trains on texts stored in the tasks: import the texts "
            'themselves (value="$text", no valueType).'
        )


def build_config(
    labels: Sequence[str], *, data_key: str = "text", control_name: str = "label", multiple: bool = False
) -> str:
    """Build a text-classification labeling config: one ``<Text>`` and one ``<Choices>``.

    Label values are stripped and XML-escaped (``"R&D"``, quotes). The text object is named ``"text"``.

    Raises:
        LabelConfigError: no labels, empty or duplicate labels, or an unusable ``data_key``/``control_name``.
    """
    clean = _check_labels(labels)
    if not isinstance(data_key, str) or not _DATA_KEY.match(data_key):
        raise LabelConfigError(
            "The 'data_key' parameter must be a task field name without spaces, commas or '$', "
            f"e.g. 'text'. Got {data_key!r} instead."
        )
    if not isinstance(control_name, str) or not _CONTROL_NAME.match(control_name) or control_name == "text":
        raise LabelConfigError(
            "The 'control_name' parameter must be a name of letters, digits, '_', '-' or '.', other than "
            f"'text' (the name of the <Text> tag), e.g. 'label'. Got {control_name!r} instead."
        )
    choice = "multiple" if multiple else "single"
    inline = ' showInLine="true"' if len(clean) <= _INLINE_MAX else ""
    lines = [
        "<View>",
        f'  <Text name="text" value={quoteattr("$" + data_key)}/>',
        f'  <Choices name={quoteattr(control_name)} toName="text" choice="{choice}"{inline}>',
        *(f"    <Choice value={quoteattr(label)}/>" for label in clean),
        "  </Choices>",
        "</View>",
    ]
    return "\n".join(lines)


def prediction_result(spec: LabelSpec, labels: str | Sequence[str]) -> list[dict[str, Any]]:
    """Label Studio's ``result`` JSON of a classification prediction.

    Args:
        spec: the parsed config block.
        labels: one label, or several for a multiple-choice block. No labels gives ``[]``: a prediction
            that orders the queue without suggesting an answer.

    Raises:
        LabelConfigError: a label is not in the config, or several labels for a single-choice block.
    """
    chosen = list(dict.fromkeys([labels] if isinstance(labels, str) else labels))
    if not chosen:
        return []
    unknown = [label for label in chosen if label not in spec.labels]
    if unknown:
        raise LabelConfigError(
            f"Labels {unknown} are not choices of <Choices name={quoteattr(spec.control_name)}> "
            f"(choices: {list(spec.labels)}); retrain the model after the labeling config changed."
        )
    if not spec.multiple and len(chosen) > 1:
        raise LabelConfigError(
            f"<Choices name={quoteattr(spec.control_name)}> is single-choice but got {len(chosen)} labels "
            f"{chosen}; pass one label."
        )
    return [
        {
            "from_name": spec.control_name,
            "to_name": spec.object_name,
            "type": "choices",
            "value": {"choices": chosen},
        }
    ]


def _interface(xml: str) -> LabelInterface:
    if not isinstance(xml, str) or not xml.strip():
        raise LabelConfigError(f"The labeling config is empty; paste a config such as {_EXAMPLE}")
    if re.search(r"<!(DOCTYPE|ENTITY)", xml, flags=re.IGNORECASE):
        raise LabelConfigError("The labeling config declares a DOCTYPE or ENTITY; remove it, Label Studio needs none.")
    from label_studio_sdk._legacy.exceptions import LabelStudioXMLSyntaxErrorSentryIgnored
    from label_studio_sdk.label_interface import LabelInterface

    try:
        # lxml refuses a str that declares its encoding; the declaration carries nothing for us.
        return LabelInterface(_XML_DECLARATION.sub("", xml, count=1))
    except (LabelStudioXMLSyntaxErrorSentryIgnored, ValueError) as err:
        raise LabelConfigError(f"The labeling config is not valid XML: {err}. Fix the tag it points at.") from err


def _controls(li: LabelInterface) -> list[ControlTag]:
    # LabelInterface.controls is {} (not an empty view) when the config has no control.
    return list(li.controls or ())


def _is_choices(control: ControlTag) -> bool:
    return str(control.tag).lower() == "choices"


def _text_objects(control: ControlTag) -> list[ObjectTag]:
    return [o for o in control.objects or () if str(o.tag).lower() in TEXT_OBJECT_TAGS]


def _text_choices(li: LabelInterface) -> list[ControlTag]:
    # perRegion Choices label a span or region, not the whole task.
    return [c for c in _controls(li) if _is_choices(c) and _text_objects(c) and c.attr.get("perRegion") != "true"]


def _names(controls: Sequence[ControlTag]) -> str:
    return ", ".join(repr(c.name) for c in controls) or "none"


def _explain_no_candidate(li: LabelInterface, all_choices: list[ControlTag]) -> NoReturn:
    """Raise the most specific reason why no ``<Choices>`` qualifies."""
    for c in all_choices:
        if not c.objects:
            _text_object(c, li)  # raises the "toName points at nothing" error
    found = "; ".join(
        f"<Choices name={quoteattr(str(c.name))}> over "
        + (", ".join(f"<{o.tag} name={quoteattr(str(o.name))}>" for o in c.objects) or "nothing")
        for c in all_choices
    )
    raise LabelConfigError(
        "This labeling config has no <Choices> over a text object; text classification needs one, "
        f"e.g. {_EXAMPLE}" + (f" (found: {found})" if found else "")
    )


def _text_object(control: ControlTag, li: LabelInterface) -> ObjectTag:
    objects = _text_objects(control)
    if not objects:
        known = {str(o.name) for o in li.objects or ()}
        missing = [name for name in control.to_name or () if name not in known]
        if missing:
            raise LabelConfigError(
                f"<Choices name={quoteattr(str(control.name))}> has toName={quoteattr(','.join(control.to_name))}, "
                f"but no object tag is named {missing} (object tags: {sorted(known) or 'none'}); "
                'set toName to the name of the <Text> tag, e.g. toName="text".'
            )
        raise LabelConfigError(
            f"<Choices name={quoteattr(str(control.name))}> labels "
            f"{[f'<{o.tag}>' for o in control.objects]}, not text; point toName at a "
            f"<Text>, <HyperText> or <Paragraphs> tag, e.g. {_EXAMPLE}"
        )
    obj = objects[0]
    if not obj.value_is_variable:
        raise LabelConfigError(
            f"<{obj.tag} name={quoteattr(str(obj.name))}> shows value={quoteattr(str(obj.value))}, "
            'not a task field; use value="$text" (the name of the field holding the text).'
        )
    return obj


def _labels(control: ControlTag, xml: str) -> tuple[str, ...]:
    labels = tuple(control.labels or ()) or _choice_values_from_xml(xml, str(control.name))
    if labels:
        return labels
    if str(control.attr.get("value", "")).startswith("$"):
        raise LabelConfigError(
            f"<Choices name={quoteattr(str(control.name))}> takes its choices from task data "
            f"(value={quoteattr(control.attr['value'])}); list them as <Choice value=...> tags instead, "
            "a classifier needs a fixed label set."
        )
    raise LabelConfigError(
        f'<Choices name={quoteattr(str(control.name))}> has no <Choice value="..."/> inside; '
        "add one <Choice> per class."
    )


def _choice_values_from_xml(xml: str, control_name: str) -> tuple[str, ...]:
    """Choice values under the named Choices, whatever the tags' case (the SDK matches only ``<Choice>``)."""
    try:
        root = ET.fromstring(_XML_DECLARATION.sub("", xml, count=1))
    except ET.ParseError:
        return ()
    for node in root.iter():
        if str(node.tag).lower() == "choices" and node.get("name") == control_name:
            values = (
                child.get("alias") or child.get("value") for child in node.iter() if str(child.tag).lower() == "choice"
            )
            return tuple(dict.fromkeys(v for v in values if v is not None))
    return ()


def _check_labels(labels: Sequence[str]) -> tuple[str, ...]:
    if isinstance(labels, str) or not all(isinstance(label, str) for label in labels):
        raise LabelConfigError(f"Labels must be a list of strings, e.g. ['Positive', 'Negative']. Got {labels!r}.")
    clean = tuple(label.strip() for label in labels)
    if not clean or any(not label for label in clean):
        raise LabelConfigError(f"Labels must be non-empty strings; got {list(labels)!r}.")
    duplicates = sorted({label for label in clean if clean.count(label) > 1})
    if duplicates:
        raise LabelConfigError(f"Labels must be unique; {duplicates} appear more than once.")
    return clean


# The intents of sample_data/clinc150_banking.csv, so the sample data fits the "intent" template.
_BANKING_INTENTS = (
    "balance", "bill_balance", "bill_due", "pay_bill", "min_payment", "transactions", "spending_history",
    "transfer", "routing", "interest_rate", "order_checks", "pin_change", "freeze_account",
    "account_blocked", "report_fraud",
)  # fmt: skip

TEMPLATES: dict[str, str] = {
    # Label Studio's active-learning example config, verbatim.
    "sentiment": """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single" showInLine="true">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>""",
    "topic": build_config(["World", "Sports", "Business", "Sci/Tech"], control_name="topic"),
    # The 15 banking intents of the bundled sample data; for other intents call
    # build_config(labels, control_name="intent").
    "intent": build_config(_BANKING_INTENTS, control_name="intent"),
}
