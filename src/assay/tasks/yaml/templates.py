"""String forms of ``doc_to_text`` / ``doc_to_target`` / ``doc_to_choice`` (lmms-eval semantics).

A string that is a key of the doc means that field; any other string is a Jinja2 template rendered with
the doc's fields (plain text renders as itself, less one trailing newline, as in lmms-eval).

Most templates are plain text and ``{{ field }}`` substitutions: those are filled in directly, as jinja2
would (its line breaks, its ``str()`` of each value), without importing or compiling jinja2; anything else
— a filter, an expression, a block, a name the doc lacks — is jinja2's. A property test holds the two to
the same output.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from assay.errors import TaskError

if TYPE_CHECKING:
    import jinja2


def render(template: str, doc: dict[str, Any]) -> Any:
    """The doc field ``template`` names (raw value), else the rendered template, else the literal."""
    if template in doc:
        return doc[template]
    return render_template(template, doc)


def render_template(template: str, doc: dict[str, Any]) -> str:
    """``template`` rendered with the doc's fields (lmms-eval's ``apply_template``)."""
    plan = _substitution(template)
    # (a doc field named "self" makes jinja2's render(**doc) fail, whatever the template: its error stays)
    if plan is not None and "self" not in doc:
        texts, names = plan
        parts = [texts[0]]
        for name, text in zip(names, texts[1:], strict=True):
            if name not in doc:  # jinja2's Undefined (or its error) for a name the doc lacks
                return render_with_jinja(template, doc)
            parts += (str(doc[name]), text)
        return "".join(parts)
    return render_with_jinja(template, doc)


def render_with_jinja(template: str, doc: dict[str, Any]) -> str:
    try:
        return _compile(template).render(**doc)
    except Exception as exc:  # jinja2's UndefinedError, TemplateSyntaxError
        raise TaskError(
            f"template {template!r} failed: {type(exc).__name__}: {exc}",
            hint="template variables are the doc's fields; check their names",
        ) from None


def literal_or_render(template: str, doc: dict[str, Any], has_choices: bool) -> Any:
    """``doc_to_target`` as a string: a field; else the rendered text, read as a choice index when it is
    all digits and the task has choices, or as a list when it looks like one (lmms-eval's rules)."""
    if template in doc:
        return doc[template]
    text = render(template, doc)
    if text.isdigit() and has_choices:
        return ast.literal_eval(text)
    if len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        try:
            return ast.literal_eval(text)
        except (SyntaxError, ValueError):
            return text
    return text


def render_choices(value: Any, doc: dict[str, Any]) -> list[Any]:
    """doc_to_choice as a list: a field, a template rendering a Python list, a list or a dict."""
    if isinstance(value, str):
        rendered = render(value, doc)
        if isinstance(rendered, str):
            try:
                rendered = ast.literal_eval(rendered)
            except (ValueError, SyntaxError):
                raise TaskError(f"doc_to_choice {value!r} did not give a list (got {rendered!r})") from None
        value = rendered
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TaskError(f"doc_to_choice gave a {type(value).__name__}, not a list")


#: ``{{ name }}``, jinja2's whitespace allowed inside (not its ``-`` trimming).
_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: Names jinja2 reads as something else (literals, operators, its own variables) or cannot take as render's
#: keywords: left to jinja2.
_JINJA_NAMES = frozenset({"true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if",
                          "else", "self", "loop", "super", "caller", "varargs", "kwargs"})
_MARKUP = ("{{", "{%", "{#")


def is_plain_substitution(template: str) -> bool:
    """Whether ``template`` is text and ``{{ name }}`` substitutions only: filled in without jinja2."""
    return _substitution(template) is not None


@lru_cache(maxsize=256)
def _substitution(template: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """``(texts, names)`` when ``template`` is text and ``{{ name }}`` only (texts around the names), with
    jinja2's line breaks: ``\\r\\n`` and ``\\r`` read as ``\\n``, one trailing line break dropped; else None."""
    lines = re.split(r"\r\n|\r|\n", template)
    if lines[-1] == "":
        del lines[-1]
    source = "\n".join(lines)
    texts: list[str] = []
    names: list[str] = []
    position = 0
    for match in _FIELD.finditer(source):
        texts.append(source[position:match.start()])
        names.append(match.group(1))
        position = match.end()
    texts.append(source[position:])
    if any(mark in text for text in texts for mark in _MARKUP) or _JINJA_NAMES.intersection(names):
        return None
    # A brace beside a substitution could join it into jinja2 syntax of its own (``{{{x}}}``).
    if any(text.endswith("{") for text in texts[:-1]) or any(text.startswith("}") for text in texts[1:]):
        return None
    return tuple(texts), tuple(names)


@lru_cache(maxsize=256)
def _compile(template: str) -> jinja2.Template:
    return _environment().from_string(template)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(loader=jinja2.BaseLoader(), undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters["regex_replace"] = _regex_replace  # lmms-eval's one custom filter
    return env


def _regex_replace(text: str, pattern: str, repl: str, count: int = 0) -> str:
    return re.sub(pattern, repl, text, count=count)
