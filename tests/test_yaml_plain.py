"""Plain task YAML read without PyYAML: wherever the subset reader gives a value, it is exactly PyYAML's
(same types, same key order, ``!function`` placeholders on the same lines) — over lmms-eval's whole task
tree, the built-in tasks and generated files that mix plain lines with everything the subset leaves to PyYAML."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.errors import TaskError
from assay.tasks.registry.discovery import BUILTIN_DIR
from assay.tasks.yaml.loader import parse_yaml_text
from assay.tasks.yaml.plain import NOT_PLAIN, parse_plain
from assay.tasks.yaml.refs import FunctionRef

WHERE = Path("/tasks/t.yaml")


def typed(value: Any) -> Any:
    """``value`` with every type spelled out (``1 == 1.0 == True`` must not pass for equal)."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (type(value).__name__, value)


def agrees(text: str, path: Path = WHERE) -> bool:
    """True when the subset read ``text`` (and as PyYAML does); False when it left it to PyYAML."""
    got = parse_plain(text, path)
    if got is NOT_PLAIN:
        return False
    assert typed(got) == typed(parse_yaml_text(text, path)), text
    return True


def test_every_builtin_task_file_is_plain() -> None:
    # Every run indexes the built-in tasks: none of them may need PyYAML.
    for path in sorted(BUILTIN_DIR.rglob("*.yaml")):
        assert agrees(path.read_text(encoding="utf-8"), path), path


def test_lmms_eval_task_files_read_as_pyyaml_reads_them(lmms_tree: Path) -> None:
    plain = 0
    paths = sorted(lmms_tree.rglob("*.yaml"))
    for path in paths:
        plain += agrees(path.read_text(encoding="utf-8"), path)
    assert plain > len(paths) // 2  # the subset is worth having: most files are read without PyYAML


def test_a_plain_file_with_every_form_the_subset_reads() -> None:
    text = """\
# a comment
task: mine  # trailing comment
doc_to_text: !function utils.doc_to_text
numbers: [skipped]
"""
    assert parse_plain(text, WHERE) is NOT_PLAIN  # a flow list: PyYAML's
    text = text.replace("numbers: [skipped]\n", """\
ints:
  - 0
  - -12
floats: {f}
flags:
  - yes
  - Off
  - ~
quoted: "tab\\there \\"q\\""
single: 'it''s'
url: http://host:80/p#frag
hash: a#b
list_at_key_indent:
- metric: exact_match
  aggregation: !function utils.agg
  higher_is_better: true
-   metric: other
    nested:
      - - deep
empty:
""".replace("{f}", "-0.5"))
    assert agrees(text)
    parsed = parse_plain(text, WHERE)
    assert parsed["doc_to_text"] == FunctionRef("utils.doc_to_text", WHERE, 3)
    assert parsed["list_at_key_indent"][0]["aggregation"] == FunctionRef("utils.agg", WHERE, 18)
    assert parsed["list_at_key_indent"][1]["nested"] == [["deep"]]
    assert parsed["empty"] is None and parsed["flags"] == [True, False, None]


@pytest.mark.parametrize("value", [
    "0x1F", "012", "1_000", "1e3", "1.", ".5", "+1", ".inf", "2020-01-01", "1:30", "<<", "=", "-", "!!str x",
    "&a x", "*a", "|", ">-", "[a]", "{a: 1}", "a: b", "a:", '"\\x41"', '"\\u00e9"', '"open', "'open", '"a"b',
    "!function nodot", "!function 'a.b'", "@x", "`x", "%x", "? x",
])
def test_what_the_subset_leaves_to_pyyaml(value: str) -> None:
    assert parse_plain(f"key: {value}\n", WHERE) is NOT_PLAIN


@pytest.mark.parametrize("text", [
    "yes: 1\n", "1: a\n", "'quoted key': 1\n", "key:value\n", "a: 1\n  b: 2\n", "a:\n    b: 1\n  c: 2\n",
    "a: 1\n- b\n", "---\na: 1\n", "a: x\n  continued\n", "a:\n-\n  b\n", "- a\n- b\n", "  a: 1\n", "",
    "a: 1\tb\n", "a: 1\r\nb: 2\r\n", "\ufeffa: 1\n", "a: \xa0x\n", "a: x\x85y\n",
])
def test_documents_the_subset_leaves_to_pyyaml(text: str) -> None:
    assert parse_plain(text, WHERE) is NOT_PLAIN


# -- generated files: plain lines mixed with everything else ---------------------------------------------

#: Values the subset reads, and (below) values it leaves to PyYAML: mostly the former, so that many generated
#: files are read by both and compared.
PLAIN = st.sampled_from([
    "plain text", "x", "a.b", "CamelCase", "snake_case", "with (parens), commas", "http://h:1/p?q=1", "a#b",
    "x # comment", "0", "7", "-3", "12345678901234567890", "1.5", "-0.25", "10.0", "yes", "No", "TRUE", "off",
    "null", "~", "Null", "nulls", "yesterday", "on-call", "'single'", "'it''s'", '"double"', '"a\\nb\\t\\"c\\\\"',
    '""', "''", "!function m.f", "!function  m.f  # c", "!function pkg.mod.f", "$HOME", "/abs/path", "\\back",
    "é accent", "日本"])
OTHER = st.sampled_from(["012", "0x10", "1_0", "1e5", "1.", ".5", "+2", ".nan", "2021-03-04", "3:04", "a: b",
    "b:", "- x", "[1, 2]", "{a: b}", "&anc x", "*anc", "!!int 3", "| lit", "> fold", "@at", "`tick", "'open",
    '"open', '"\\x41"', "x\ty", "-", "?", ":", "=", "<<",
])
SCALARS = st.integers(0, 19).flatmap(lambda i: OTHER if i == 0 else PLAIN)
KEYS = st.integers(0, 19).flatmap(lambda i: st.sampled_from(["yes", "On", "1", "a b", "'q'"]) if i == 0 else
                                  st.sampled_from(["a", "b", "task", "doc_to_text", "x.y", "k-1", "_p"]))


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines: list[str] = []

    def mapping(indent: int, depth: int) -> None:
        for _ in range(draw(st.integers(1, 4))):
            key = draw(KEYS)
            if depth < 3 and draw(st.booleans()):
                lines.append(" " * indent + f"{key}:")
                child = indent + draw(st.sampled_from([0, 1, 2, 4]))
                if draw(st.booleans()):
                    sequence(child, depth + 1)
                elif child > indent:
                    mapping(child, depth + 1)
            else:
                lines.append(" " * indent + f"{key}: {draw(SCALARS)}")
            if draw(st.integers(0, 9)) == 0:
                lines.append(" " * draw(st.integers(0, 6)) + draw(st.sampled_from(["# note", "", "   "])))

    def sequence(indent: int, depth: int) -> None:
        for _ in range(draw(st.integers(1, 3))):
            gap = " " * draw(st.sampled_from([1, 1, 3]))
            if depth < 3 and draw(st.booleans()):
                lines.append(" " * indent + f"-{gap}{draw(KEYS)}: {draw(SCALARS)}")
                mapping(indent + 1 + len(gap), depth + 1)
            else:
                lines.append(" " * indent + f"-{gap}{draw(SCALARS)}")

    mapping(0, 0)
    if draw(st.integers(0, 5)) == 0:  # a stray line: mis-indented, or a continuation
        lines.insert(draw(st.integers(0, len(lines))), " " * draw(st.integers(0, 5)) + draw(SCALARS))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))


@settings(max_examples=600, deadline=None)
@given(documents())
def test_generated_files_read_as_pyyaml_reads_them(text: str) -> None:
    got = parse_plain(text, WHERE)
    if got is NOT_PLAIN:
        return
    try:
        expected = parse_yaml_text(text, WHERE)
    except TaskError as exc:  # the subset must never read what PyYAML refuses
        raise AssertionError(f"read without PyYAML, refused by it ({exc.message}):\n{text}") from None
    assert typed(got) == typed(expected), text
