"""Retry decisions as values: every failure is classified once, here, as permanent or retryable.

Unit-tested against real exception objects; the wrapper in ``model/wrapper.py`` only acts on the
decision.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from assay.errors import FailureKind, ProviderError

#: Statuses that say "this request will never succeed as sent".
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 413, 422})
#: Statuses that say "try again later".
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
#: Failure kinds worth another attempt, with or without an HTTP status.
TRANSIENT_KINDS: frozenset[FailureKind] = frozenset({
    "timeout", "connection", "empty", "server", "malformed", "rate_limit", "overloaded",
})
#: Failure kinds that would fail the same way again.
PERMANENT_KINDS: frozenset[FailureKind] = frozenset({
    "auth", "bad_request", "not_found", "content_policy", "context_length", "quota", "unsupported", "budget",
    "redirect", "client",
})
#: Kinds that say only "an HTTP error" (or nothing): the status decides (408/409/429/5xx retried; another
#: 4xx, or no status at all, not).
STATUS_DECIDED_KINDS: frozenset[FailureKind] = frozenset({"http", "unknown"})

#: Failures that would repeat for every request: stop the run instead of paying for more (model or judge).
FATAL_ALWAYS: frozenset[FailureKind] = frozenset({"auth", "quota", "unsupported", "budget", "redirect"})
#: Failures that are fatal while nothing has succeeded yet (a wrong URL or model name).
FATAL_BEFORE_FIRST_SUCCESS: frozenset[FailureKind] = frozenset({"connection", "not_found"})


@dataclass(frozen=True, slots=True)
class RetryDecision:
    kind: Literal["no", "transient", "rate_limit"]
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind != "no"


NO_RETRY = RetryDecision("no")


def classify(exc: BaseException) -> RetryDecision:
    """Retry this request? The server's own word first (``x-should-retry``, kept as ``retryable``), then
    the kind: permanent (400/401/403/404/422, content policy, exhausted quota) or transient (408/409/429/5xx,
    timeouts, dropped connections, empty or malformed answers), then the status."""
    if isinstance(exc, ProviderError):
        return _classify_provider_error(exc)
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError, ConnectionError)):
        return RetryDecision("transient")
    return NO_RETRY


def _classify_provider_error(exc: ProviderError) -> RetryDecision:
    rate_limited = exc.status == 429 or exc.kind == "rate_limit"
    if exc.retryable is not None:  # the server (or the provider) said so: status and kind do not overrule it
        if not exc.retryable:
            return NO_RETRY
        return RetryDecision("rate_limit" if rate_limited else "transient", exc.retry_after)
    if exc.kind in PERMANENT_KINDS:
        return NO_RETRY
    if rate_limited:
        return RetryDecision("rate_limit", exc.retry_after)
    if exc.kind in TRANSIENT_KINDS:
        return RetryDecision("transient", exc.retry_after)
    if exc.status is not None and exc.status not in PERMANENT_STATUSES and (
            exc.status in TRANSIENT_STATUSES or exc.status >= 500):
        return RetryDecision("transient", exc.retry_after)
    return NO_RETRY


def is_fatal(exc: ProviderError, *, any_success: bool) -> bool:
    """Stop the run (model or judge) rather than pay for more requests that would fail the same way:
    a refused key, an exhausted quota, the cost cap; a wrong address or model name while nothing has
    succeeded yet (``any_success``: some request of this model already answered)."""
    return exc.kind in FATAL_ALWAYS or (exc.kind in FATAL_BEFORE_FIRST_SUCCESS and not any_success)
