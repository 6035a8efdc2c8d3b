"""``lmms_eval.utils``: the small utilities task helpers import, written for assay."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from assay.compat.logger import eval_logger
from assay.tasks.yaml.templates import render_template

__all__ = ["apply_template", "create_iterator", "eval_logger", "get_datetime_str", "handle_non_serializable",
           "hash_string", "is_multimodal_content", "resolve_cache_dir", "sanitize_model_name",
           "sanitize_task_name", "simple_parse_args_string"]


def resolve_cache_dir(cache_dir: str, base_dir: str | None = None) -> str:
    """``cache_dir`` with ``$VARS`` and ``~`` expanded; a relative one is joined to ``base_dir``."""
    resolved = os.path.expanduser(os.path.expandvars(cache_dir))
    if base_dir is not None and not os.path.isabs(resolved):
        return os.path.join(base_dir, resolved)
    return resolved


def sanitize_model_name(model_name: str, full_path: bool = False) -> str:
    """A model name usable in file names: the last two path parts (or all of them), unsafe runs -> ``__``."""
    text = model_name if full_path else "/".join(model_name.split("/")[-2:])
    return re.sub(r"[\"<>:/\|\\?\*\[\]]+", "__", text)


def sanitize_task_name(task_name: str) -> str:
    return re.sub(r"\W", "_", task_name)


def hash_string(string: str) -> str:
    return hashlib.sha256(string.encode("utf-8")).hexdigest()


def apply_template(template: str, doc: dict[str, Any]) -> str:
    return render_template(template, doc)


def simple_parse_args_string(args_string: str) -> dict[str, Any]:
    """``"a=1,b=x"`` -> ``{"a": 1, "b": "x"}`` (numbers and booleans converted)."""
    out: dict[str, Any] = {}
    for piece in (p for p in args_string.strip().split(",") if p):
        key, _, value = piece.partition("=")
        out[key.strip()] = _convert(value.strip())
    return out


def _convert(value: str) -> Any:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def handle_non_serializable(o: Any) -> Any:
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


def is_multimodal_content(value: Any) -> bool:
    """Whether a doc value is media (a PIL image, audio array dict, or bytes) rather than data."""
    if isinstance(value, (bytes, bytearray)):
        return True
    if isinstance(value, dict) and ("array" in value or "bytes" in value):
        return True
    return type(value).__module__.startswith("PIL.")


def create_iterator(raw_iterator: Iterable[Any], rank: int = 0, world_size: int = 1, limit: int | None = None,
                    offset: int = 0) -> Iterator[Any]:
    start = int(rank) + int(offset or 0)
    stop = None if limit is None else int(offset or 0) + int(limit)
    return islice(raw_iterator, start, stop, int(world_size))


def get_datetime_str(timezone: str = "Asia/Singapore") -> str:
    try:
        from zoneinfo import ZoneInfo

        now = datetime.datetime.now(ZoneInfo(timezone))
    except Exception:
        now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y%m%d_%H%M%S")
