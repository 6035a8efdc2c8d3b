"""Values as JSON text for the files the sinks write: valid JSON in valid UTF-8, whatever the values.

A line is ``json.dumps`` with its default separators (readers and tests rely on ``"key": value``; orjson
writes only the compact form). A float that is not a number raises ValueError: :func:`redact_values`, the
careful path, writes it as a string saying what it was; lone surrogates are written as JSON escapes.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Lone surrogates (half of a UTF-16 pair; a model answer decoded with ``surrogatepass``, say).
_SURROGATE = re.compile("[\ud800-\udfff]")


def to_json(obj: Any) -> str:
    """One line of JSON (what ``json.dumps(obj, ensure_ascii=False, allow_nan=False)`` writes). Raises
    ValueError for a float that is not a number (see :func:`redact_values`)."""
    encode = _line_encoder()
    if encode is None:
        return json.dumps(obj, ensure_ascii=False, default=_json_default, allow_nan=False)
    return "".join(encode(obj, 0))


@functools.cache
def _line_encoder() -> Callable[[Any, int], Any] | None:
    """json's C encoder, made once: ``json.dumps`` makes one per call (~1.8 µs of a sample line's ~5 µs).
    It checks for no circular reference (json's check costs a dict per call): a record is data read from
    JSON and the run's own values, and one that refers to itself still fails (RecursionError) rather than
    being written. None where json has no C accelerator."""
    from json import encoder

    make: Callable[..., Callable[[Any, int], Any]] | None = getattr(encoder, "c_make_encoder", None)
    escape = getattr(encoder, "c_encode_basestring", None)  # ensure_ascii=False's string writer
    if make is None or escape is None:  # pragma: no cover - CPython has both
        return None
    # (markers, default, escape, indent, key separator, item separator, sort_keys, skipkeys, allow_nan)
    return make(None, _json_default, escape, None, ": ", ", ", False, False, False)


def utf8(text: str) -> bytes:
    """``text`` (JSON) as UTF-8; lone surrogates become JSON escapes, so the bytes are valid UTF-8 and a
    JSON reader gets the very same string back."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text).encode("utf-8")


def _not_a_number(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "size") and hasattr(value, "mode"):  # a PIL image
        return f"<image {getattr(value, 'size', '')}>"
    return repr(value)


def redact_values(obj: Any, redact: Callable[[str], str]) -> Any:
    """A JSON-ready copy of ``obj`` with ``redact`` applied to every string in it (keys too), before
    serialization, so escaping can never hide a secret from the redactor."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {(redact(k) if isinstance(k, str) else k): redact_values(v, redact) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_values(v, redact) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return _not_a_number(obj)  # valid JSON has no NaN; a reader sees what it was
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    converted = _json_default(obj)
    return redact_values(converted, redact) if isinstance(converted, (str, list)) else converted

