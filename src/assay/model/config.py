"""The Model wrapper's transport knobs, from --model_args (``num_concurrent``, ``timeout``, ``max_attempts``…):
each checked to be a finite number in range, split from the provider's own arguments."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from assay.errors import ConfigError

#: --model_args keys that configure the wrapper rather than the provider.
WRAPPER_ARGS: dict[str, str] = {
    "num_concurrent": "max_concurrency",
    "max_concurrency": "max_concurrency",
    "rpm": "requests_per_minute",
    "max_attempts": "max_attempts",
    "max_retries": "max_attempts",
    "timeout": "timeout",
    "backoff_initial": "backoff_initial",
    "backoff_max": "backoff_max",
    "max_retry_after": "max_retry_after",
}
#: field -> (smallest allowed value, whether it must be whole, an example). Every value must be finite.
_RANGES: dict[str, tuple[float, bool, str]] = {
    "max_concurrency": (1, True, "num_concurrent=16"),
    "max_attempts": (1, True, "max_attempts=5"),
    "requests_per_minute": (1e-9, False, "rpm=600"),
    "timeout": (1e-9, False, "timeout=120"),
    "backoff_initial": (0, False, "backoff_initial=1"),
    "backoff_max": (0, False, "backoff_max=60"),
    "max_retry_after": (0, False, "max_retry_after=600"),
}


def _number(key: str, value: Any, target: str) -> float | int:
    """A --model_args number for the wrapper: finite, in range, whole where it counts something."""
    from assay.env.masking import shown_value

    low, whole, example = _RANGES[target]
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise ConfigError(f"--model_args {key}={shown_value(value)} is not a finite number", hint=f"e.g. {example}")
    if key == "max_retries":  # lmms-eval counts retries, we count attempts
        number += 1
    if number < low or (whole and not number.is_integer()):
        what = "a whole number" if whole else "a number"
        bound = f"at least {low:g}" if low >= 1 or low == 0 else "above 0"
        shown = key if key != "max_retries" else "max_retries (+1 attempt)"
        raise ConfigError(f"--model_args {shown}={shown_value(value)} must be {what} {bound}", hint=f"e.g. {example}")
    return int(number) if whole else number


@dataclass(frozen=True)
class ModelConfig:
    """Transport knobs (never part of a cache key). Set from --model_args."""

    max_concurrency: int = 16
    requests_per_minute: float | None = None
    max_attempts: int = 5
    timeout: float = 120.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    #: The longest wait a server's Retry-After can impose (a longer request is cut to this, and logged).
    max_retry_after: float = 600.0

    @classmethod
    def split_model_args(cls, model_args: dict[str, Any]) -> tuple[ModelConfig, dict[str, Any]]:
        """(wrapper config, the provider's own args) from one --model_args dict."""
        provider_args: dict[str, Any] = {}
        values: dict[str, Any] = {}
        for key, value in model_args.items():
            target = WRAPPER_ARGS.get(key)
            if target is None:
                provider_args[key] = value
                continue
            values[target] = _number(key, value, target)
        return cls(**values), provider_args
