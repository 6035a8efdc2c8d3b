"""Templates that are text and ``{{ field }}`` only are filled in without jinja2, exactly as jinja2 renders
them (its line breaks, its str() of each value); everything else is still jinja2's."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.errors import TaskError
from assay.tasks.yaml.templates import _substitution, render_template, render_with_jinja

NAMES = ["x", "y", "question", "A", "none", "self", "loop", "range", "missing"]
fragments = st.sampled_from([
    "{{", "}}", "{", "}", "{%", "%}", "{#", "#}", " ", "\n", "\r", "\r\n", "-", "|", ".", "[0]", "+", "'",
    "text", "Answer: ", "é", "\t", *NAMES, *(f"{{{{{n}}}}}" for n in NAMES), *(f"{{{{ {n} }}}}" for n in NAMES),
    "{{x|upper}}", "{{ x.y }}", "{{-x}}", "{{ x -}}", "{{\nx\n}}", "{{x}}{{y}}",
])
templates = st.lists(fragments, max_size=8).map("".join)
values = st.one_of(st.text(max_size=5), st.integers(), st.floats(allow_nan=False), st.none(), st.booleans(),
                   st.lists(st.integers(), max_size=2), st.text(alphabet="{}%#\n\r ", max_size=4))
docs = st.dictionaries(st.sampled_from(NAMES[:-1]), values, max_size=6)


def outcome(render: Any, template: str, doc: dict[str, Any]) -> tuple[str, str]:
    try:
        return "text", render(template, doc)
    except TaskError:
        return "error", ""


@settings(max_examples=600, deadline=None)
@given(template=templates, doc=docs)
def test_filled_in_exactly_as_jinja2_renders(template: str, doc: dict[str, Any]) -> None:
    assert outcome(render_template, template, doc) == outcome(render_with_jinja, template, doc)


FIELDS = ["x", "y", "question", "A", "range"]
#: Templates that are mostly substitutions of fields every doc has, amid text of every awkward kind.
substitutions = st.lists(st.one_of(
    st.sampled_from([*(f"{{{{{n}}}}}" for n in FIELDS), *(f"{{{{ {n}\n}}}}" for n in FIELDS)]),
    st.text(alphabet="ab {}%#-\n\r\t.é", max_size=4),
), max_size=8).map("".join)
full_docs = st.fixed_dictionaries({n: values for n in FIELDS})


@settings(max_examples=600, deadline=None)
@given(template=substitutions, doc=full_docs)
def test_substitutions_amid_any_text_are_what_jinja2_renders(template: str, doc: dict[str, Any]) -> None:
    assert outcome(render_template, template, doc) == outcome(render_with_jinja, template, doc)


@pytest.mark.parametrize("template", [
    "{{question}}\nA. {{A}}\nB. {{B}}\nAnswer with the option letter.", "{{ x }}", "plain text\n", "",
    "line\r\nbreaks\rhere {{x}}\n", "}} stray {{ y }} {",
])
def test_the_usual_templates_take_the_fast_path(template: str) -> None:
    assert _substitution(template) is not None


@pytest.mark.parametrize("template", [
    "{{ x|upper }}", "{% if x %}y{% endif %}", "{# note #}{{x}}", "{{ x.y }}", "{{-x}}", "{{ none }}", "{{{x}}}",
])
def test_everything_else_is_left_to_jinja2(template: str) -> None:
    assert _substitution(template) is None


def test_a_missing_field_is_jinja2s_error() -> None:
    with pytest.raises(TaskError, match="'B' is undefined"):
        render_template("{{A}} or {{B}}", {"A": 1})


def test_substitution_does_not_import_jinja2() -> None:
    code = ("import sys; from assay.tasks.yaml.templates import render_template; "
            "assert render_template('Q: {{q}}\\nA: {{ a }}\\n', {'q': 1, 'a': None}) == 'Q: 1\\nA: None'; "
            "print('jinja2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
