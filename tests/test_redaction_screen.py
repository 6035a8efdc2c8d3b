"""The one-pass redaction of sample lines (issue #18) is the structural redaction, only cheaper: a property
test plants secrets — registered ones raw, JSON-escaped, URL-encoded, in a URL's userinfo or query, and
keys known by their shape — in every field of generated records, and checks that the files sink writes
exactly the line that redacting every string before serializing would write, with no secret in it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assay.env.redaction import Redactor
from assay.sinks.files import FileSink, redact_values, to_json

SECRET = "Zq8-registered-Secret_77x"
SHAPED = "sk-proj-AbCdEfGhIjKlMnOpQrStUv123"
FORMS = [SECRET, json.dumps(SECRET)[1:-1], quote(SECRET, safe=""), f"https://user:{SECRET}@host/x",
         f"https://host/v1?api_key={SECRET}&x=1", f"Bearer {SHAPED}", f"\n{SHAPED}", f"x={SHAPED}",
         f"{SECRET}\"quoted\"", f"\\{SECRET}", "https://u:p@h/", "?token=abc"]

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@st.composite
def planted_text(draw: st.DrawFn) -> str:
    """Plain text, or text with a secret form somewhere inside it."""
    if draw(st.booleans()):
        return draw(text)
    return draw(text) + draw(st.sampled_from(FORMS)) + draw(text)


leaf = st.one_of(planted_text(), st.integers(), st.floats(allow_nan=True), st.none(), st.booleans())
records = st.dictionaries(planted_text(), st.recursive(leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(planted_text(), inner, max_size=3)), max_leaves=8), max_size=6)


def redactor() -> Redactor:
    r = Redactor()
    r.add(SECRET, "MY_KEY")
    return r


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_the_screened_line_is_the_structurally_redacted_line(record: dict[str, Any]) -> None:
    r = redactor()
    sink = FileSink(Path("/nonexistent"), "m", log_samples=True, redact=r.redact, may_change=r.may_change)
    line = sink._line(record)
    assert line == to_json(redact_values(record, r.redact))
    for secret in (SECRET, SHAPED, quote(SECRET, safe="")):
        assert secret not in line


def test_the_screen_passes_ordinary_records_without_a_second_pass() -> None:
    r = redactor()
    ordinary = {"task": "mmmu_val", "doc": {"question": "What is 3 + 5?\nA. 8\nB. 9"}, "resps": [["A"]],
                "arguments": {"gen_kwargs": {"max_new_tokens": 8, "temperature": 0}}, "latency_s": 0.01}
    assert not r.may_change(to_json(ordinary))
    assert Redactor().may_change(to_json({"url": "https://user:pw@host/"}))


SHAPE_EXAMPLES = ["sk-" + "a1" * 10, "sk-ant-" + "B2" * 12, "hf_" + "c3" * 15, "AIza" + "d4" * 17 + "e",
                  "xai-" + "f5" * 10, "gsk_" + "g6" * 10, "r8_" + "h7" * 10, *(f"gh{c}_" + "i8" * 15 for c in "pousr"),
                  "AKIA" + "J9" * 8, "Bearer tok3n.value"]


def test_the_screen_sends_every_credential_shape_to_redaction() -> None:
    """The screen's substring tests (a shape's literal) let no shape through that redaction would change,
    wherever it stands: alone, inside a word, after a JSON escape."""
    r = Redactor()
    for example in SHAPE_EXAMPLES:
        for value in (example, f"see {example} here", f"x{example}", f"line\n{example}"):
            assert r.redact(value) != value or value.startswith("x"), value
            line = to_json({"doc": {"q": value}})
            assert r.may_change(line), value


def test_the_screen_finds_registered_forms_and_url_signs_without_shapes() -> None:
    r = redactor()
    assert r.may_change(to_json({"a": f"the key {SECRET}!"}))
    assert r.may_change(to_json({"a": f"x\n{SECRET}\"q"}))
    assert r.may_change(to_json({"a": "see ftp://me:pw@host"}))
    assert r.may_change(to_json({"a": "/path?token=abc"}))
    assert not r.may_change(to_json({"a": "a = b; c?", "b": "mail me@host"}))
