"""Retry decisions as values: every failure is classified once, here, as permanent or retryable.

Unit-tested against real exception objects; the wrapper in ``model/wrapper.py`` only acts on the
decision.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from assay.errors import ProviderError

#: Statuses that say "this request will never succeed as sent".
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 413, 422})
#: Statuses that say "try again later".
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
#: Failure kinds a provider reports without an HTTP status, and which are worth another attempt.
TRANSIENT_KINDS = frozenset({"timeout", "connection", "empty", "server", "malformed", "rate_limit", "overloaded"})
PERMANENT_KINDS = frozenset({
    "auth", "bad_request", "not_found", "content_policy", "context_length", "quota", "unsupported", "budget",
    "redirect", "client",
})


#: Failures that would repeat for every request: stop the run instead of paying for more (model or judge).
FATAL_ALWAYS = frozenset({"auth", "quota", "unsupported", "budget", "redirect"})
#: Failures that are fatal while nothing has succeeded yet (a wrong URL or model name).
FATAL_BEFORE_FIRST_SUCCESS = frozenset({"connection", "not_found"})


@dataclass(frozen=True, slots=True)
class RetryDecision:
    kind: Literal["no", "transient", "rate_limit"]
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind != "no"


NO_RETRY = RetryDecision("no")


def classify(exc: BaseException) -> RetryDecision:
    """Permanent (400/401/403/404/422, content policy, exhausted quota) or transient (408/409/429/5xx,
    timeouts, dropped connections, empty or malformed answers)."""
    if isinstance(exc, ProviderError):
        if exc.kind in PERMANENT_KINDS or exc.retryable is False:
            return NO_RETRY
        if exc.status == 429 or exc.kind == "rate_limit":
            return RetryDecision("rate_limit", exc.retry_after)
        if exc.kind in TRANSIENT_KINDS:
            return RetryDecision("transient", exc.retry_after)
        if exc.status is not None:
            if exc.status in PERMANENT_STATUSES:
                return NO_RETRY
            if exc.status in TRANSIENT_STATUSES or exc.status >= 500:
                return RetryDecision("transient", exc.retry_after)
        return NO_RETRY
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError, ConnectionError)):
        return RetryDecision("transient")
    return NO_RETRY
