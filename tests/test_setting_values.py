"""Settings without pydantic on the usual path: the fast conversion gives exactly what pydantic gives for
every value it takes, and leaves every other value to pydantic (which gives the value or the reason)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.env.setting_values import Secret, Unusual, before, convert, explain
from assay.env.settings import _BEFORE, _BOUNDS, _TYPES, SPECS, load_settings
from assay.errors import ConfigError

FIELDS = [spec.field for spec in SPECS]

#: Text shaped like each kind of value (numbers, booleans, choices, lists, paths), and anything at all.
shaped = st.one_of(
    st.from_regex(r"\s?-?[0-9]{0,4}(\.[0-9]{0,3})?([eE][0-9])?\s?", fullmatch=True),
    st.sampled_from(["inf", "nan", "-0", "0", "1", "true", "Off", " yes ", "maybe", "debug", " Azure ", "gcp",
                     "a, b,,c", "~/x", "$HOME/y", "", " ", "1_000", "0x10", "١٢"]),
    st.text(max_size=12),
)
typed = st.one_of(st.integers(-5, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                  st.none(), st.lists(st.text(max_size=3), max_size=3).map(tuple),
                  st.builds(Path, st.text(min_size=1, max_size=5)), st.builds(Secret, st.text(max_size=5)))


def outcome(step: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "value", step(*args)
    except Unusual:
        return "unusual", None
    except ValueError as exc:
        return "error", str(exc)


@settings(max_examples=400, deadline=None)
@given(field=st.sampled_from(FIELDS), raw=st.one_of(shaped, typed))
def test_the_fast_path_agrees_with_pydantic(field: str, raw: Any) -> None:
    kind, value = outcome(before, field, raw, _BEFORE)
    if kind != "value":
        return  # the before step's own error is said as it is, either way
    fast = outcome(convert, _TYPES[field], value, _BOUNDS[field])
    checked = outcome(explain, _TYPES[field], value, _BOUNDS[field])
    assert fast[0] in ("value", "unusual")
    if fast[0] == "value":
        assert checked == fast, (field, raw)
        assert type(checked[1]) is type(fast[1])


@pytest.mark.parametrize(("field", "raw", "expected"), [
    ("max_line_mb", "12", 12), ("wandb_init_timeout", "2.5", 2.5), ("audio_max_seconds", "600", 600.0),
    ("verbosity", "warning", "WARNING"), ("judge_api_type", " Azure ", "azure"), ("use_cache", "on", True),
    ("plugins", "a, b,,", ("a", "b")), ("hf_endpoint", "http://h", "http://h"), ("prices", "p.yaml", Path("p.yaml")),
    ("openai_api_key", "sk-abc", Secret("sk-abc")),
])
def test_the_usual_forms_take_the_fast_path(field: str, raw: str, expected: Any) -> None:
    assert convert(_TYPES[field], before(field, raw, _BEFORE), _BOUNDS[field]) == expected


@pytest.mark.parametrize(("variable", "text", "reason"), [
    ("ASSAY_MAX_LINE_MB", "0", "Input should be greater than or equal to 1"),
    ("ASSAY_MAX_LINE_MB", "ten", "Input should be a valid integer, unable to parse string as an integer"),
    ("WANDB_INIT_TIMEOUT", "inf", "Input should be a finite number"),
    ("VERBOSITY", "loud", "Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
])
def test_errors_are_pydantics_reasons(variable: str, text: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={variable: text}, discover_dotenv=False)
    assert str(info.value) == f"{variable}={text!r} (from env {variable}) is not valid: {reason}"


def test_secrets_are_hidden_and_survive_pickling() -> None:
    loaded = load_settings(environ={"OPENAI_API_KEY": "sk-hidden-123456", "VERBOSITY": "debug"},
                           discover_dotenv=False)
    assert "sk-hidden" not in repr(loaded) + str(loaded.openai_api_key)
    again = pickle.loads(pickle.dumps(loaded))
    assert again == loaded and again.secret("openai_api_key") == "sk-hidden-123456"
    assert str(again.source_of("verbosity")) == "env VERBOSITY" and again.verbosity == "DEBUG"


def test_loading_settings_does_not_import_pydantic() -> None:
    code = ("import sys; from assay.env.settings import load_settings; "
            "s = load_settings(environ={'OPENAI_API_KEY': 'sk-x-123456', 'ASSAY_MAX_LINE_MB': '9', "
            "'LMMS_EVAL_USE_CACHE': 'yes', 'WANDB_INIT_TIMEOUT': '5'}, discover_dotenv=False); "
            "assert s.max_line_mb == 9 and s.use_cache; print('pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
