"""``--batch`` and its ``--model_args``: ``batch=true``, ``batch_poll_interval`` (seconds),
``batch_max_requests`` (requests per batch, within the vendor's limit) and ``batch_retry`` (``batch``: retryable
failures go into a follow-up batch; ``interactive``: they are sent one by one at the interactive price)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from assay.errors import ConfigError

BATCH_ARGS = ("batch", "batch_poll_interval", "batch_max_requests", "batch_retry")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@dataclass(frozen=True)
class BatchConfig:
    #: Seconds between two polls of a batch that is not done.
    poll_interval: float = 30.0
    #: Requests per batch (None: the vendor's own limit).
    max_requests: int | None = None
    #: Where a request that failed in a batch with a retryable error is tried again.
    retry: Literal["batch", "interactive"] = "batch"


def _flag(value: Any, flag: str) -> bool:
    text = str(value).strip().lower()
    if isinstance(value, bool):
        return value
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{flag} batch={value!r} is not true or false", hint="e.g. batch=true")


def _positive(key: str, value: Any, *, whole: bool, flag: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0 or (whole and not number.is_integer()):
        raise ConfigError(f"{flag} {key}={value!r} must be a positive {'whole ' if whole else ''}number",
                          hint=f"e.g. {key}={'1000' if whole else '30'}")
    return number


def batch_config(model_args: Mapping[str, Any], on_flag: bool = False,
                 flag: str = "--model_args") -> tuple[BatchConfig | None, dict[str, Any]]:
    """(the batch settings, or None for interactive requests; the other arguments of ``flag``)."""
    rest = {k: v for k, v in model_args.items() if k not in BATCH_ARGS}
    on = on_flag or _flag(model_args.get("batch", False), flag)
    tuning = [k for k in BATCH_ARGS[1:] if k in model_args]
    if not on:
        if tuning:
            raise ConfigError(f"{flag} {tuning[0]} needs batch mode", hint="add --batch (or batch=true)")
        return None, rest
    retry = str(model_args.get("batch_retry", "batch"))
    if retry not in ("batch", "interactive"):
        raise ConfigError(f"{flag} batch_retry={retry!r} is not batch or interactive",
                          hint="batch_retry=batch (a follow-up batch) or batch_retry=interactive")
    size = model_args.get("batch_max_requests")
    return BatchConfig(
        poll_interval=_positive("batch_poll_interval", model_args.get("batch_poll_interval", 30), whole=False,
                                flag=flag),
        max_requests=int(_positive("batch_max_requests", size, whole=True, flag=flag)) if size is not None else None,
        retry="interactive" if retry == "interactive" else "batch",
    ), rest
