"""Texts the system writes into the database (timeline notes, ledger references, import refusal reasons,
access-log details, outbox errors) stored as a message id with parameters and shown in the reader's language.

What is stored: `MARK` followed by compact JSON `[msgid, {name: value}]`, where a value is a number, a string
(shown as it is: a request number, a date, a reason a person typed) or a translatable text of its own, stored
as `[msgid]` or `[msgid, {params}]` (a status label, a channel) and translated too. The msgid is the Bahasa
Indonesia source text, marked with gettext_noop where it is written so that makemessages collects it.

What is read: `SystemTextField` (a CharField/TextField) turns a stored value into a `SystemText`, a str
holding the text in the language active when the row was read, with `.raw` the stored value; saving a
`SystemText` stores its `.raw`. Old rows (plain text) and texts typed by a person stay plain strings, shown as
they are. `render_system_text(value)` and the `|system_text` template filter render a value (stored, read or
plain) in the active language.

Invariant: the stored value never depends on the writer's language, and always fits its column (a long
string parameter is shortened, never the encoding cut).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext

# ASCII record separator: never typed (forms strip it with the surrounding whitespace, str.strip()).
MARK = "\x1e"
ELLIPSIS = "…"

Param = str | int | float | list | dict


class SystemText(str):
    """A system-written text: the str is its rendering in the language active when it was made or read;
    `.raw` is what is stored."""

    raw: str

    def __new__(cls, rendered: str, raw: str) -> SystemText:
        text = super().__new__(cls, rendered)
        text.raw = raw
        return text

    def __reduce__(self):
        return (SystemText, (str(self), self.raw))

    def __deepcopy__(self, memo: dict) -> SystemText:
        return self


def _param(value: Any) -> Param:
    """One parameter as stored: translatable texts as [msgid] / [msgid, params] (or a join), the rest as it
    is."""
    if isinstance(value, SystemText):
        return json.loads(value.raw[len(MARK) :])
    if isinstance(value, Promise):
        msgid = _lazy_msgid(value)
        return [msgid] if msgid is not None else str(value)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return value
    return str(value)


def _lazy_msgid(value: Promise) -> str | None:
    """The msgid of gettext_lazy(msgid) (a TextChoices label, a field's verbose name), None for other lazies."""
    args = getattr(value, "_args", ())
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def _render_node(node: Any) -> Any:
    """A stored node in the active language: [msgid], [msgid, params], {"j": separator, "p": [nodes]}, or a
    plain value."""
    if isinstance(node, list):
        return _render(*node)
    if isinstance(node, dict):
        return str(node.get("j", "")).join(str(_render_node(part)) for part in node.get("p", []))
    return node


def _render(msgid: str, params: dict[str, Param] | None = None) -> str:
    text = gettext(msgid)
    if not params:
        return text
    values = {name: _render_node(value) for name, value in params.items()}
    try:
        return text % values
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder: the source text
        return msgid % values


def _stored(node: Any) -> SystemText:
    raw = MARK + json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    return SystemText(_render_node(node), raw)


def system_text(msgid: str | Promise, /, **params: Any) -> SystemText:
    """The text to store for msgid (mark it with gettext_noop at the call, or pass a gettext_lazy label) with
    its parameters; a parameter that is a lazy translation (a choices label) or another system_text is stored
    as its key and translated when shown."""
    if isinstance(msgid, Promise):
        msgid = _lazy_msgid(msgid) or str(msgid)
    stored = {name: _param(value) for name, value in params.items()}
    return _stored([msgid, stored] if stored else [msgid])


def system_text_join(parts: Iterable[Any], separator: str = " ") -> SystemText:
    """Several texts shown as one (each translated on its own), the empty ones left out: a system sentence
    followed by what a person typed, or a sentence with an optional clause."""
    nodes = [_param(part) for part in parts if part not in ("", None)]
    return _stored({"j": separator, "p": nodes})


def decode(value: str) -> str:
    """A stored value as read: a SystemText for a system-written text, the value itself otherwise."""
    if not isinstance(value, str) or not value.startswith(MARK):
        return value
    try:
        rendered = _render_node(json.loads(value[len(MARK) :]))
    except (ValueError, TypeError, AttributeError):
        return value
    return SystemText(rendered, value)


def render_system_text(value: Any) -> str:
    """The text in the active language. A plain string (an old row, or what a person typed) is shown as it
    is, or translated when it is exactly a catalogue msgid (old rows written in Bahasa Indonesia)."""
    if value is None or value == "":
        return ""
    raw = getattr(value, "raw", value)
    if isinstance(raw, str) and raw.startswith(MARK):
        return str(decode(raw))
    return gettext(str(value)) if isinstance(value, str) else str(value)


def raw_value(value: Any) -> Any:
    """What is stored for value (the encoding of a SystemText, anything else unchanged)."""
    return getattr(value, "raw", value)


def _string_leaves(node: Any) -> Iterator[tuple[int, Any, Any]]:
    """(length, container, key) of every plain string a node shows as it is (parameters, joined parts)."""
    if isinstance(node, list) and len(node) > 1:
        for name, value in node[1].items():
            if isinstance(value, str):
                yield len(value), node[1], name
            else:
                yield from _string_leaves(value)
    elif isinstance(node, dict):
        for index, part in enumerate(node.get("p", [])):
            if isinstance(part, str):
                yield len(part), node["p"], index
            else:
                yield from _string_leaves(part)


def fit(value: Any, limit: int | None) -> Any:
    """value shortened to at most `limit` stored characters. For a SystemText the longest plain string in it
    (a parameter, a joined part) is shortened with an ellipsis until the encoding fits; plain text is cut."""
    if limit is None or value is None:
        return value
    raw = raw_value(value)
    if not isinstance(raw, str) or len(raw) <= limit:
        return value
    if not raw.startswith(MARK):
        return raw[:limit]
    node = json.loads(raw[len(MARK) :])
    while len(raw) > limit:
        leaves = [leaf for leaf in _string_leaves(node) if leaf[0] > 1]
        if not leaves:
            return str(_render_node(node))[:limit]  # nothing left to shorten: the rendering, as plain text
        length, container, key = max(leaves, key=lambda leaf: leaf[0])
        keep = max(0, length - (len(raw) - limit) - 1)
        container[key] = container[key][:keep] + ELLIPSIS
        raw = MARK + json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    return SystemText(_render_node(node), raw)


class _SystemTextMixin:
    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return decode(value)

    def to_python(self, value: Any) -> Any:
        return decode(super().to_python(value))

    def get_prep_value(self, value: Any) -> Any:
        return raw_value(fit(super().get_prep_value(value), self.max_length))


class SystemTextField(_SystemTextMixin, models.CharField):
    """A CharField that may hold a system_text (stored as its key and parameters, read in the reader's
    language) or plain typed text."""


class SystemTextTextField(_SystemTextMixin, models.TextField):
    """A TextField that may hold a system_text or plain typed text."""
