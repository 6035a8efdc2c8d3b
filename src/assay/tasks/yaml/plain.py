"""Plain task YAML read without PyYAML: the block mappings, lists and one-line scalars most task files
are made of, read exactly as PyYAML's safe loader reads them — or not at all.

Importing PyYAML costs every run ~7 ms of start-up (its resolver and reader compile their patterns at
import), for files like::

    task: mine                       # a comment
    doc_to_text: !function utils.doc_to_text
    generation_kwargs:
      max_new_tokens: 8
      temperature: 0.5
    metric_list:
      - metric: exact_match
        higher_is_better: true
    post_prompt: "\\nAnswer with the letter."

Anything else — a flow collection, a block scalar (``|``, ``>``), an anchor, alias or other tag, a
scalar running over lines, a tab, a number PyYAML reads in a form of its own (``0x1f``, ``1_000``,
``012``, ``1e3``, ``.5``), any escape but the common ones, a malformed line — gives :data:`NOT_PLAIN`,
and the caller hands the text to PyYAML, which reads it (or words its error) as it always did. The
subset is held to PyYAML's own reading by tests over lmms-eval's whole task tree and generated files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assay.tasks.yaml.refs import FunctionRef

NOT_PLAIN: Any = object()

_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
#: YAML 1.1 words PyYAML resolves to a bool or to null (exactly these spellings).
_WORDS: dict[str, Any] = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
    **dict.fromkeys(("null", "Null", "NULL", "~"), None),
}
_ESCAPES = {"\\": "\\", '"': '"', "/": "/", "n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "b": "\b",
            "v": "\v", "f": "\f", "e": "\x1b", " ": " "}
#: Far below any alias bomb bound (:data:`assay.tasks.yaml.loader.MAX_EXPANDED_NODES`); past it, PyYAML decides.
_MAX_LINES = 20_000


class _NotPlain(Exception):
    """Outside the subset: PyYAML reads this text."""


def parse_plain(text: str, path: Path) -> Any:
    """``text`` (written in ``path``) as PyYAML's safe loader with ``!function`` placeholders reads it, or
    :data:`NOT_PLAIN` when it is not plain enough to be read here."""
    if not text.replace("\n", "").isprintable():
        # Python's printable characters are a subset of PyYAML's; the rest (a tab, a control character,
        # any line break but \n, a byte order mark, a Unicode space) are left to PyYAML's own reading.
        return NOT_PLAIN
    # Only spaces are stripped: PyYAML reads a no-break or other Unicode space as part of a value.
    lines = [(number, len(line) - len(line.lstrip(" ")), line.strip(" "))
             for number, line in enumerate(text.split("\n"), start=1)
             if line.strip(" ") and not line.lstrip(" ").startswith("#")]
    if not lines or len(lines) > _MAX_LINES or lines[0][1] != 0:
        return NOT_PLAIN
    try:
        document, end = _Block(lines, path).mapping(0, 0)
    except _NotPlain:
        return NOT_PLAIN
    return document if end == len(lines) else NOT_PLAIN


class _Block:
    """Lines ``(number, indent, content)`` (no blank or comment line) read as nested block collections."""

    def __init__(self, lines: list[tuple[int, int, str]], path: Path) -> None:
        self.lines = lines
        self.path = path

    def mapping(self, i: int, indent: int) -> tuple[dict[Any, Any], int]:
        out: dict[Any, Any] = {}
        while i < len(self.lines) and self.lines[i][1] == indent:
            number, _, content = self.lines[i]
            key, colon, rest = content.partition(":")
            if not colon or _KEY.fullmatch(key) is None or key in _WORDS or (rest and rest[0] != " "):
                raise _NotPlain
            rest = rest.strip(" ")
            if rest and not rest.startswith("#"):
                out[key] = self.scalar(rest, number)
                i = self._after_scalar(i, indent)
            elif i + 1 < len(self.lines) and self.lines[i + 1][1] > indent:
                out[key], i = self.block(i + 1, self.lines[i + 1][1])
            elif i + 1 < len(self.lines) and self.lines[i + 1][1] == indent and _is_item(self.lines[i + 1][2]):
                out[key], i = self.sequence(i + 1, indent)  # a list may sit at its key's own indent
            else:
                out[key], i = None, i + 1
        if i < len(self.lines) and self.lines[i][1] > indent:
            raise _NotPlain  # deeper than the mapping, yet no key's value
        return out, i

    def sequence(self, i: int, indent: int) -> tuple[list[Any], int]:
        out: list[Any] = []
        while i < len(self.lines) and self.lines[i][1] == indent and _is_item(self.lines[i][2]):
            number, _, content = self.lines[i]
            item = content[2:]
            column = indent + 2 + len(item) - len(item.lstrip(" "))
            item = item.strip(" ")
            if item.startswith("- ") or _starts_mapping(item):
                self.lines[i] = (number, column, item)  # the item's collection starts on the dash's line
                value, i = self.block(i, column)
            else:
                value = self.scalar(item, number)
                i = self._after_scalar(i, indent)
            out.append(value)
        if i < len(self.lines) and self.lines[i][1] > indent:
            raise _NotPlain
        return out, i

    def block(self, i: int, indent: int) -> tuple[Any, int]:
        if _is_item(self.lines[i][2]):
            return self.sequence(i, indent)
        return self.mapping(i, indent)

    def _after_scalar(self, i: int, indent: int) -> int:
        if i + 1 < len(self.lines) and self.lines[i + 1][1] > indent:
            raise _NotPlain  # a scalar running over lines (or a malformed one): PyYAML's to read
        return i + 1

    def scalar(self, text: str, number: int) -> Any:
        """One value written on one line (a trailing comment allowed), as PyYAML resolves it."""
        if text.startswith('"'):
            return _quoted(text, _double_quoted)
        if text.startswith("'"):
            return _quoted(text, _single_quoted)
        if text.startswith("!function "):
            name = _plain_text(text[len("!function "):].lstrip(" "))
            if "." not in name or not name or name[0] in _INDICATORS:
                raise _NotPlain  # PyYAML's reading, or the placeholder's own error message
            return FunctionRef(name, self.path, number)
        return _resolved(_plain_text(text))


_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")


def _is_item(content: str) -> bool:
    if content == "-":
        raise _NotPlain  # an item whose value starts on the next line
    return content.startswith("- ")


def _starts_mapping(item: str) -> bool:
    """Whether a list item (``- key: value`` or ``- key:``) starts a mapping on the dash's line."""
    key = _KEY.match(item)
    return key is not None and item[key.end():key.end() + 2] in (":", ": ")


def _plain_text(text: str) -> str:
    """A plain scalar's text: up to a comment, trailing spaces off; refused where PyYAML would read more."""
    if text.startswith("#"):
        raise _NotPlain
    cut = text.find(" #")
    value = (text if cut < 0 else text[:cut]).rstrip(" ")
    if ": " in value or value.endswith(":"):
        raise _NotPlain
    return value


def _resolved(value: str) -> Any:
    """PyYAML's implicit typing of a plain scalar, for the forms read here."""
    if value in _WORDS:
        return _WORDS[value]
    first = value[0]
    if first.isdigit() or first in "-+.":
        if _INT.fullmatch(value):
            return int(value)
        if _FLOAT.fullmatch(value):
            return float(value)
        raise _NotPlain  # another number form, a date, a version: PyYAML resolves those its own way
    if first in _INDICATORS or not (first.isalpha() or first in "_/$(\\"):
        raise _NotPlain
    return value


def _quoted(text: str, read: Any) -> str:
    value, rest = read(text)
    rest_stripped = rest.strip(" ")
    if rest_stripped and not (rest[0] == " " and rest_stripped.startswith("#")):
        raise _NotPlain
    return str(value)


def _double_quoted(text: str) -> tuple[str, str]:
    out: list[str] = []
    i = 1
    while i < len(text):
        char = text[i]
        if char == '"':
            return "".join(out), text[i + 1:]
        if char == "\\":
            escaped = _ESCAPES.get(text[i + 1:i + 2])
            if escaped is None:
                raise _NotPlain  # \x, \u, \N, a line continuation...: PyYAML's to read
            out.append(escaped)
            i += 2
            continue
        out.append(char)
        i += 1
    raise _NotPlain  # no closing quote on this line


def _single_quoted(text: str) -> tuple[str, str]:
    out: list[str] = []
    i = 1
    while i < len(text):
        char = text[i]
        if char == "'":
            if text[i + 1:i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out), text[i + 1:]
        out.append(char)
        i += 1
    raise _NotPlain
