"""A setting's raw value (text from the environment, a `.env` or a login file; a typed value from the command
line or the Python API) turned into its field's type, without pydantic on the usual path.

Each field has a "before" step (expand ``~`` in a path, read a strict boolean, split a list, fold the case
of a choice) and a type. :func:`convert` handles the forms every real run uses and raises :class:`Unusual`
for anything else — another form, an error — and :func:`explain` then validates that one value with
pydantic: the same value as the fast path would give (a property test holds the two to it), or pydantic's
own one-line reason. Importing pydantic costs more than everything else in a run's start-up.
"""

from __future__ import annotations

import math
import os
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


class Secret:
    """A secret setting's value: ``**********`` in ``str()`` and ``repr()`` (as pydantic's SecretStr), read
    with :meth:`get_secret_value`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __repr__(self) -> str:
        return f"Secret('{self}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __getstate__(self) -> str:
        return self._value

    def __setstate__(self, state: str) -> None:
        self._value = state


class Unusual(Exception):
    """The fast path is not sure of this value: pydantic decides (:func:`explain`)."""


def parse_bool(value: object, name: str = "") -> bool:
    """Strict boolean: 1/0, true/false, yes/no, on/off (any case); anything else is an error."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    prefix = f"{name}: " if name else ""
    raise ValueError(f"{prefix}expected 1/0, true/false, yes/no or on/off, got {value!r}")


def expand_home(value: object) -> Path:
    """``~`` and ``$VARIABLES`` in a folder setting, expanded."""
    return Path(os.path.expandvars(os.path.expanduser(str(value))))


def split_names(value: object) -> tuple[Any, ...]:
    """A comma-separated list (blanks dropped), or a list or tuple as it is."""
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(",") if p.strip())
    return tuple(value) if isinstance(value, (list, tuple)) else ()


def fold_case(upper: bool) -> Callable[[object], object]:
    """A choice's text, stripped, in upper or lower case (its choices' case)."""
    def fold(value: object) -> object:
        if isinstance(value, str):
            return value.strip().upper() if upper else value.strip().lower()
        return value
    return fold


def before(field: str, value: object, steps: Mapping[str, Callable[[object], object]]) -> object:
    """The field's "before" step (a ValueError from it is the value's error, said as it is)."""
    step = steps.get(field)
    return step(value) if step is not None else value


def convert(annotation: Any, value: object, bounds: Mapping[str, Any]) -> object:
    """``value`` (after its before step) as ``annotation``; :class:`Unusual` if not sure."""
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    if value is None:
        if type(None) in options:
            return None
        raise Unusual
    kind = next(o for o in options if o is not type(None))
    if typing.get_origin(kind) is Literal:
        if isinstance(value, str) and value in typing.get_args(kind):
            return value
        raise Unusual
    found = _CONVERTERS.get(kind)
    if found is None:
        raise Unusual
    converted = found(value)
    if not _within(converted, bounds):
        raise Unusual
    return converted


def _within(value: object, bounds: Mapping[str, Any]) -> bool:
    if not isinstance(value, (int, float)):
        return True
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return ("ge" not in bounds or value >= bounds["ge"]) and ("gt" not in bounds or value > bounds["gt"])


def _to_str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise Unusual


def _to_path(value: object) -> Path:
    if isinstance(value, (str, Path)):
        return Path(value)
    raise Unusual


def _to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise Unusual


def _to_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    raise Unusual


def _to_float(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return float(value)
    raise Unusual


def _to_names(value: object) -> tuple[str, ...]:
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return value
    raise Unusual


def _to_secret(value: object) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value)
    raise Unusual


_CONVERTERS: dict[Any, Callable[[object], Any]] = {
    str: _to_str, Path: _to_path, bool: _to_bool, int: _to_int, float: _to_float,
    tuple[str, ...]: _to_names, Secret: _to_secret,
}


def explain(annotation: Any, value: object, bounds: Mapping[str, Any]) -> object:
    """``value`` (after its before step) validated by pydantic as ``annotation`` with ``bounds``: its
    value, or a ValueError carrying pydantic's reason."""
    from typing import Annotated

    from pydantic import Field, SecretStr, TypeAdapter, ValidationError

    secret = Secret in typing.get_args(annotation) or annotation is Secret
    target = SecretStr | None if secret else annotation
    adapter: TypeAdapter[Any] = TypeAdapter(Annotated[target, Field(**bounds)])  # type: ignore[arg-type]
    try:
        checked = adapter.validate_python(value.get_secret_value() if isinstance(value, Secret) else value)
    except ValidationError as exc:
        raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    return Secret(checked.get_secret_value()) if isinstance(checked, SecretStr) else checked
