"""HTTP failure → ProviderError, in one place for every HTTP-speaking provider."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

from assay.errors import ProviderAuthError, ProviderError

_CONTENT_POLICY_CODES = {"content_policy_violation", "content_filter", "safety", "moderation_blocked"}


def error_message(body: str) -> tuple[str, str | None]:
    """(message, code) from a JSON error body in the common ``{"error": {...}}`` shapes."""
    try:
        data: Any = json.loads(body)
    except (ValueError, TypeError):
        return (body.strip()[:300] or "no error body"), None
    err = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(err, dict):
        message = str(err.get("message") or err.get("detail") or err)[:300]
        code = err.get("code") or err.get("type")
        return message, str(code) if code is not None else None
    return str(err)[:300], None


def error_from_http(
    status: int,
    headers: Mapping[str, str],
    body: str,
    *,
    provider: str,
    url: str,
    key_hint: str,
    model: str = "",
) -> ProviderError:
    """Map a non-2xx response to a typed error with a hint saying what to do."""
    message, code = error_message(body)
    where = f"{provider} at {url}"
    retry_after = parse_retry_after(headers)
    if status in (401, 403):
        return ProviderAuthError(
            f"{where} refused the credential ({status}): {message}",
            hint=key_hint,
            kind="auth",
            status=status,
            provider=provider,
        )
    if status == 429:
        if code == "insufficient_quota":  # billing, not throttling: waiting will not help
            return ProviderError(
                f"{where}: quota exhausted (429 insufficient_quota): {message}",
                hint="check the account's billing and quota; retrying will not help",
                kind="quota",
                status=status,
                provider=provider,
            )
        return ProviderError(
            f"{where}: rate limited (429): {message}",
            hint="lower num_concurrent or set rpm=… in --model_args",
            kind="rate_limit",
            status=status,
            retry_after=retry_after,
            provider=provider,
        )
    if status == 404:
        return ProviderError(
            f"{where}: not found (404): {message}",
            hint=f"check the model name{f' `{model}`' if model else ''} and base_url",
            kind="not_found",
            status=status,
            provider=provider,
        )
    if status in (400, 422):
        kind = "content_policy" if code in _CONTENT_POLICY_CODES else "bad_request"
        return ProviderError(
            f"{where}: request rejected ({status}): {message}",
            hint="the request is invalid for this model; check --gen_kwargs and --model_args",
            kind=kind,
            status=status,
            provider=provider,
        )
    kind = "server" if status >= 500 else "http"
    return ProviderError(
        f"{where}: HTTP {status}: {message}",
        hint="the server failed; assay retries this automatically",
        kind=kind,
        status=status,
        retry_after=retry_after,
        provider=provider,
    )


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait, from ``retry-after-ms``, ``Retry-After: <seconds>`` or ``Retry-After: <HTTP date>``.

    ``headers`` must be case-insensitive (aiohttp's and httpx's are). Negative or absurd values are
    ignored (None) so that a broken server cannot stall a run for days.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            value = float(raw_ms) / 1000.0
            if 0 <= value < 86_400:
                return value
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
        seconds = max(seconds, 0.0)
    return seconds if 0 <= seconds < 86_400 else None
