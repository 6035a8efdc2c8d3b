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
    redirected_to: str | None = None,
) -> ProviderError:
    """Map a non-2xx response to a typed error with a hint saying what to do. ``redirected_to``: the other
    origin the request was redirected to (the HTTP client does not send the key there)."""
    message, code = error_message(body)
    where = f"{provider} at {url}"
    retry_after = parse_retry_after(headers)
    if redirected_to is not None and status in (401, 403):
        return ProviderError(
            f"{where} redirected the request to {redirected_to}, which refused it ({status}): {message}",
            hint=f"the key is not sent to another host on a redirect; set base_url to the address "
                 f"{redirected_to} serves, if you trust it",
            kind="redirect",
            status=status,
            provider=provider,
        )
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


def decode_body(raw: bytes, charset: str | None) -> str:
    """A response body as text: its declared charset (else UTF-8), undecodable bytes replaced, so a body
    that is not valid text is a malformed answer (retried, counted), never a crash."""
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return raw.decode("utf-8", errors="replace")


def as_int(value: Any) -> int:
    """A token count from a usage field that may be missing, null, a float, a string or garbage (0)."""
    if isinstance(value, bool):
        return 0
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        return 0
    return int(number) if 0 <= number < 2**53 else 0


def other_origin(base_url: str, resp: Any) -> str | None:
    """The origin (scheme://host:port) a redirected response came from, if it is not ``base_url``'s."""
    if not getattr(resp, "history", None):
        return None
    from urllib.parse import urlsplit

    def origin(url: str) -> tuple[str, str, int | None]:
        parts = urlsplit(url)
        return parts.scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(parts.scheme)

    final = str(resp.url)
    if origin(final) == origin(base_url):
        return None
    parts = urlsplit(final)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def client_error(exc: BaseException, *, provider: str, where: str, connect_hint: str) -> ProviderError:
    """An aiohttp client failure as a classified error: the connection (dropped, refused, reset: retried),
    too many redirects (permanent), or a reply that is not valid HTTP (malformed: retried)."""
    import aiohttp

    if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
        return ProviderError(f"cannot reach {where}: {type(exc).__name__}", hint=connect_hint, kind="connection",
                             provider=provider)
    if isinstance(exc, aiohttp.TooManyRedirects):
        return ProviderError(f"{where} redirects in a loop", hint="check base_url: the server keeps redirecting",
                             kind="redirect", provider=provider)
    return ProviderError(f"{where} sent a reply that is not valid HTTP: {type(exc).__name__}",
                         hint="assay retries this; check base_url points at an OpenAI-compatible API",
                         kind="malformed", provider=provider)
