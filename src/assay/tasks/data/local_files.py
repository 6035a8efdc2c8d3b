"""Read local json / jsonl / csv dataset files into a :class:`DocList`, with the standard library only.

This is the path for built-in tasks and for user tasks with small local data: it never imports
``datasets`` (1.6 s and ~150 MB just to import).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assay.errors import DatasetError
from assay.tasks.data.doclist import DocList
from assay.tasks.data.jsonl_docs import DEFAULT_MAX_LINE_BYTES, JsonlDocs
from assay.tasks.data.special_files import refuse_special

LOCAL_SUFFIXES = (".json", ".jsonl", ".csv")
_INT_RE = re.compile(r"[+-]?(?:0|[1-9]\d*)")
_FLOAT_RE = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+)")


def read_local_files(paths: Sequence[Path], *, field: str | None = None,
                     max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> DocList | JsonlDocs:
    """All rows of ``paths``, in order; a json file may hold a list, ``{field: [...]}`` or columns.
    JSON-lines files stay on disk (:class:`JsonlDocs`: each doc read when asked for, memory flat)."""
    for path in paths:
        refuse_special(path)  # before anything opens it: a FIFO would block the open, /dev/zero never end
    if paths and all(p.suffix.lower() == ".jsonl" for p in paths):
        return JsonlDocs(paths, max_line_bytes=max_line_bytes)
    docs = DocList()
    for path in paths:
        if path.suffix.lower() == ".csv":
            docs.extend(_read_csv(path))
        else:
            docs.extend(_read_json(path, field))
    return docs


def _read_json(path: Path, field: str | None) -> list[dict[str, Any]]:
    text = _read_text(path)
    if path.suffix.lower() == ".jsonl":
        return _json_lines(text, path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # a .json file holding JSON lines, which `datasets` also accepts
            return _json_lines(text, path)
        raise DatasetError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}", hint="fix the data file") from None
    if field is not None:
        if not isinstance(data, dict) or field not in data:
            raise DatasetError(f"{path}: no top-level field {field!r}", hint="check dataset_kwargs.field")
        data = data[field]
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        data = _columns_to_rows(data, path)
    if not isinstance(data, list):
        raise DatasetError(
            f"{path}: expected a list of objects, got {type(data).__name__}",
            hint="store docs as a JSON list, as JSON lines, or set dataset_kwargs.field to the list's key",
        )
    return [_row(item, path, i + 1) for i, item in enumerate(data)]


def _json_lines(text: str, path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(_row(json.loads(line), path, lineno))
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{path}:{lineno}: invalid JSON line: {exc.msg}", hint="one JSON object per line"
            ) from None
    return rows


def _columns_to_rows(data: dict[str, list[Any]], path: Path) -> list[dict[str, Any]]:
    lengths = {len(v) for v in data.values()}
    if len(lengths) != 1:
        raise DatasetError(f"{path}: columns have different lengths {sorted(lengths)}", hint="fix the data file")
    keys = list(data)
    return [dict(zip(keys, values, strict=True)) for values in zip(*data.values(), strict=True)]


def _row(item: Any, path: Path, where: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise DatasetError(
            f"{path}: row {where} is a {type(item).__name__}, not an object", hint="each doc is a JSON object"
        )
    return item


def _read_csv(path: Path) -> list[dict[str, Any]]:
    import csv  # only for CSV data: off the start-up of the usual JSON-lines run

    text = _read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))  # keeps quoted newlines intact
    try:
        return [{k: _coerce(v) for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:
        raise DatasetError(f"{path}:{reader.line_num}: invalid CSV: {exc}", hint="fix the data file") from None


def _coerce(value: str | None) -> Any:
    """Numbers as numbers and empty cells as None, as `datasets` (pandas) reads CSV."""
    if value is None or value == "":
        return None
    if _INT_RE.fullmatch(value):
        return int(value)
    if _FLOAT_RE.fullmatch(value):
        return float(value)
    return value


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"data file {path} does not exist", hint="check dataset_path / data_files") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read data file {path}: {exc}", hint="check the file is readable UTF-8") from None
