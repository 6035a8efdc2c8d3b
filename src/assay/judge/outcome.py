"""What a judgement comes to: a :class:`Verdict` or a :class:`JudgeFailure` — values, never exceptions.

A failed judgement is a counted state. The sample it belongs to is excluded from the metric's
denominator and reported with its reason; it is never scored as a 0, a tie or a fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from assay.text import clip
from assay.types import Usage

FailureReason = Literal["request_failed", "parse_failed", "refused", "cost_cap"]
#: Every reason, in the order results list them (``cost_cap``: not sent, --max_cost would be passed).
FAILURE_REASONS: tuple[FailureReason, ...] = ("request_failed", "parse_failed", "refused", "cost_cap")
_MAX_RAW = 2000


@dataclass(frozen=True)
class Verdict:
    """The judge answered and the answer parsed: ``value`` is what the parser made of ``raw``."""

    raw: str
    value: Any
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    attempts: int = 1
    cached: bool = False

    ok = True

    def as_record(self) -> dict[str, Any]:
        return {"ok": True, "model": self.model, "raw": _cut(self.raw), "value": _plain(self.value),
                "attempts": self.attempts, "cached": self.cached, "usage": _usage(self.usage)}


@dataclass(frozen=True)
class JudgeFailure:
    """No usable verdict: the request failed for good, the answer did not parse, or the judge refused.

    ``detail`` says what happened in one line (already free of secrets when it reaches a record);
    ``raw`` is the judge's text when there was one.
    """

    reason: FailureReason
    detail: str
    raw: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    attempts: int = 1

    ok = False

    @property
    def value(self) -> None:
        return None

    def as_record(self) -> dict[str, Any]:
        return {"ok": False, "reason": self.reason, "detail": self.detail, "model": self.model,
                "raw": _cut(self.raw) if self.raw is not None else None, "attempts": self.attempts,
                "usage": _usage(self.usage)}


JudgeOutcome = Verdict | JudgeFailure


def _usage(usage: Usage) -> dict[str, int]:
    return {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}


def _cut(text: str) -> str:
    return clip(text, _MAX_RAW)


def _plain(value: Any) -> Any:
    """A parsed value as JSON-friendly data (dataclass verdicts such as a pairwise result become dicts)."""
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    return value
