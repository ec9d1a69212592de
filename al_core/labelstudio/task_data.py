"""Read a task's text the way Label Studio shows it.

- ``value="$review.body"`` reads the nested field ``{"review": {"body": ...}}`` (a top-level key that is itself
  ``"review.body"`` wins, as in Label Studio); list items are reached by their index (``$turns.0.text``).
- ``<Text>`` shows the value as it is; ``<HyperText>`` renders HTML, so the text is what a person reads: tags,
  scripts and styles removed, entities decoded; ``<Paragraphs>`` shows a list of objects, one line each, whose text
  is under the tag's ``textKey`` (default ``"text"``).
- Spreadsheet blanks (None, NaN, empty or white space) are no text.

Texts behind a URL (``valueType="url"``) are refused when the config is read (``label_config``), never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from al_core.errors import ConfigError
from al_core.labelstudio.label_config import LabelSpec

_MISSING = object()


def field_value(data: Mapping[str, Any], key: str) -> Any:
    """The value at ``key`` of task data, following dots into nested objects and lists; None when absent."""
    if key in data:
        return data[key]
    value: Any = data
    for part in key.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is _MISSING:
            return None
    return value


class _TextOfHtml(HTMLParser):
    _HIDDEN = frozenset({"script", "style", "head", "template", "noscript"})
    _BREAKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self._hidden:
            self._hidden -= 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text a browser shows for ``html``: no tags, scripts or styles; entities decoded; blank lines folded."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def task_text(task_data: Mapping[str, Any], spec: LabelSpec) -> str | None:
    """The text a task shows for ``spec``'s object tag, or None when it shows none (missing, blank, NaN)."""
    value = field_value(task_data, spec.data_key)
    if value is None or (isinstance(value, float) and math.isnan(value)):  # NaN from a spreadsheet export
        return None
    if spec.object_tag == "Paragraphs" or (isinstance(value, list) and all(isinstance(i, Mapping) for i in value)):
        if not isinstance(value, list):
            return None
        value = "\n".join(
            str(item[spec.text_key])
            for item in value
            if isinstance(item, Mapping) and item.get(spec.text_key) is not None
        )
    text = value if isinstance(value, str) else str(value)
    if spec.object_tag == "HyperText":
        text = html_text(text)
    return text if text.strip() else None


def refuse_unreadable(spec: LabelSpec, n_tasks: int, n_readable: int, n_missing: int) -> None:
    """Raise ConfigError when none of ``n_tasks`` has a text where the config points (``n_readable`` 0,
    ``n_missing`` > 0): called before an iteration draws its evaluation set or sends anything (a run on no
    text would "succeed" with nothing learned and nothing queued)."""
    if n_tasks and not n_readable and n_missing:
        raise ConfigError(
            f"None of the {n_tasks:,} tasks has a text at ${spec.data_key} (the value of <{spec.object_tag} "
            f"name={spec.object_name!r}>): check that the tasks' data field matches the labeling config."
        )
