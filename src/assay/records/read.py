"""Reading a run's files back: parse, then check against :mod:`assay.records.schema`.

A results file edited by hand or written by another tool (``timing`` a string, ``doc_id`` a list) is
refused here with one line naming the file and the field, instead of failing later, deep in a reader,
as an "unexpected TypeError". The check is strict (no ``"12"`` taken for 12) and returns the document
exactly as parsed: nothing is coerced, dropped or reordered.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from assay.errors import ConfigError
from assay.records.schema import ResultsDocument, SampleRecord

if TYPE_CHECKING:
    from pydantic import TypeAdapter, ValidationError

_HINT = "pass a *_results.json file written by `assay run` (or lmms-eval), as it was written"


@cache
def _adapter(kind: type) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter

    return TypeAdapter(kind)


def check_results(document: Any, where: str) -> ResultsDocument:
    """``document`` as a results document, or ConfigError naming the first bad field."""
    if not isinstance(document, dict) or "results" not in document:
        raise ConfigError(f"{where} is not an assay/lmms-eval results document (no `results` key)", hint=_HINT)
    _check(ResultsDocument, document, where)
    return cast(ResultsDocument, document)


def check_sample(record: Any, where: str) -> SampleRecord:
    """``record`` as a sample record, or ConfigError naming the first bad field."""
    if not isinstance(record, dict):
        raise ConfigError(f"{where} is not a sample record (a JSON object)", hint=_HINT)
    _check(SampleRecord, record, where)
    return cast(SampleRecord, record)


def read_results(path: Path) -> ResultsDocument:
    """The results document at ``path``, checked."""
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}",
                          hint="check the path and its permissions") from None
    try:
        document = json.loads(text)
    except ValueError:
        raise ConfigError(f"{path} is not valid JSON (a results file cut short?)",
                          hint="pass a complete *_results.json file") from None
    return check_results(document, str(path))


def _check(kind: type, value: dict[str, Any], where: str) -> None:
    from pydantic import ValidationError

    try:
        _adapter(kind).validate_python(value, strict=True)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {describe(exc)}", hint=_HINT) from None


def describe(exc: ValidationError) -> str:
    """The first bad field as ``field `timing.wall_s`: input should be a valid number``: one line, the
    value never echoed (it may be anything, a secret included)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        field = ".".join(str(p) for p in error["loc"] if not _is_union_member(p))
        fields.setdefault(field or "(top level)", _plain(error["msg"]))
    if not fields:
        return "does not match the results schema"
    field, message = next(iter(fields.items()))
    more = f" (and {len(fields) - 1} more field{'s' if len(fields) > 2 else ''})" if len(fields) > 1 else ""
    return f"field `{field}`: {message}{more}"


def _is_union_member(part: Any) -> bool:
    """pydantic puts the union member it tried (``int``, ``list[float]``, ``typed-dict``…) in the path."""
    return isinstance(part, str) and (part in {"int", "float", "str", "bool", "none", "dict"} or "[" in part
                                      or part.startswith(("function-", "typed-dict", "nullable")))


def _plain(msg: str) -> str:
    text = msg.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text else "is invalid"
