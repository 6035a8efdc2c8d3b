"""HTTP for every HTTP-speaking provider: one aiohttp session per provider, and failure → ProviderError.

Each vendor module parses its own error bodies (their shapes differ) and decides the *kind* of a failure
in one function; :func:`http_error` turns that kind into a typed error with the hint the user sees, so
that every vendor says the same thing about the same problem. OpenAI-shaped bodies (OpenAI, Azure, xAI,
vLLM) go through :func:`error_from_http`.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from assay.errors import FailureKind, ProviderAuthError, ProviderError
from assay.text import clip

if TYPE_CHECKING:
    import aiohttp

_CONTENT_POLICY_CODES = {"content_policy_violation", "content_filter", "safety", "moderation_blocked"}
_CONTEXT_CODES = {"context_length_exceeded", "string_above_max_length"}
# vLLM and xAI say it in words only.
_CONTEXT_PHRASES = ("maximum context length", "maximum prompt length", "context length is")
# xAI and some gateways say a policy refusal in words only.
_POLICY_PHRASES = ("content management policy", "usage guidelines", "violates our usage policy", "content policy")

#: Where each vendor puts its id for a request: OpenAI, xAI, vLLM (x-request-id), Anthropic (request-id),
#: Azure (apim-request-id, x-ms-request-id), Google (x-goog-request-id). The first one present wins.
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "apim-request-id", "x-ms-request-id", "x-goog-request-id")

#: What to do about each kind of failure (``{model}`` is filled with " `<model>`" when known).
HINTS: dict[FailureKind, str] = {
    "rate_limit": "lower num_concurrent or set rpm=… in --model_args",
    "quota": "check the account's billing and quota; retrying will not help",
    "not_found": "check the model name{model} and base_url",
    "bad_request": "the request is invalid for this model; check --gen_kwargs and --model_args",
    "content_policy": "the vendor refused this prompt or answer (content policy / safety); it is counted as "
                      "refused, not retried",
    "context_length": "the prompt is longer than the model accepts; use fewer images or frames, or a model with "
                      "a longer context",
    "overloaded": "the vendor is overloaded; assay retries this automatically",
    "server": "the server failed; assay retries this automatically",
    "http": "the server failed; assay retries this automatically",
}
_SUMMARY: dict[FailureKind, str] = {
    "rate_limit": "rate limited", "quota": "quota exhausted", "not_found": "not found",
    "bad_request": "request rejected", "content_policy": "refused by content policy",
    "context_length": "prompt too long", "overloaded": "overloaded",
}


def error_message(body: str) -> tuple[str, str | None]:
    """(message, code) from a JSON error body in the common ``{"error": {...}}`` shapes."""
    try:
        data: Any = json.loads(body)
    except (ValueError, TypeError):
        return (clip(body.strip(), 300) or "no error body"), None
    err = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(err, dict):
        message = clip(str(err.get("message") or err.get("detail") or err), 300)
        code = err.get("code") or err.get("type")
        return message, str(code) if code is not None else None
    return clip(str(err), 300), None


def request_id(headers: Mapping[str, str]) -> str | None:
    """The vendor's id for this request (``headers`` case-insensitive), cut to a sane length."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return clip(value.strip(), 200)
    return None


def should_retry(headers: Mapping[str, str]) -> bool | None:
    """The server's ``x-should-retry: true|false`` (OpenAI and Anthropic send it), which openai-python
    honours before any status rule; None when absent or neither word."""
    return {"true": True, "false": False}.get((headers.get("x-should-retry") or "").strip().lower())


class tagged:  # lower case: read as a function, ``with tagged(headers):``
    """Errors raised while reading a successful reply (malformed, refused) carry the reply's request id.

    A class, not a generator context manager: it wraps every reply, and costs a fraction of a microsecond."""

    __slots__ = ("_headers",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = headers

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if isinstance(exc, ProviderError) and exc.request_id is None:
            exc.request_id = request_id(self._headers)


def default_kind(status: int) -> FailureKind:
    """The kind a status means when the body says nothing more specific."""
    if status in (401, 403):
        return "auth"
    if status == 429:
        return "rate_limit"
    if status == 404:
        return "not_found"
    if status in (400, 413, 422):
        return "bad_request"
    return "server" if status >= 500 else "http"


def http_error(
    status: int,
    headers: Mapping[str, str],
    message: str,
    *,
    kind: FailureKind | None = None,
    provider: str,
    url: str,
    key_hint: str,
    model: str = "",
    retry_after: float | None = None,
) -> ProviderError:
    """A typed error for one failed HTTP exchange, with the hint for its kind.

    ``kind`` is the vendor module's reading of the body (None: decided by the status alone);
    ``retry_after`` overrides the headers' Retry-After (Gemini puts it in the body)."""
    kind = kind or default_kind(status)
    where = f"{provider} at {url}"
    vendor_id = request_id(headers)
    if kind == "auth":
        return ProviderAuthError(
            f"{where} refused the credential ({status}): {message}",
            hint=key_hint, kind="auth", status=status, provider=provider, request_id=vendor_id,
        )
    wait = retry_after if retry_after is not None else parse_retry_after(headers)
    summary = f"{_SUMMARY[kind]} ({status})" if kind in _SUMMARY else f"HTTP {status}"
    hint = HINTS.get(kind, HINTS["server"]).format(model=f" `{model}`" if model else "")
    return ProviderError(
        f"{where}: {summary}: {message}",
        hint=hint, kind=kind, status=status, retry_after=wait, provider=provider,
        retryable=should_retry(headers), request_id=vendor_id,
    )


def openai_kind(status: int, code: str | None, message: str) -> FailureKind:
    """The kind of an OpenAI-shaped error (OpenAI, Azure OpenAI, xAI, vLLM, SGLang)."""
    if status == 429 and code == "insufficient_quota":  # billing, not throttling: waiting will not help
        return "quota"
    if status in (400, 422):
        if code in _CONTENT_POLICY_CODES or any(p in message.lower() for p in _POLICY_PHRASES):
            return "content_policy"
        if code in _CONTEXT_CODES or any(p in message.lower() for p in _CONTEXT_PHRASES):
            return "context_length"
    return default_kind(status)


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
    """Map a non-2xx response with an OpenAI-shaped body to a typed error with a hint."""
    message, code = error_message(body)
    return http_error(status, headers, message, kind=openai_kind(status, code, message), provider=provider,
                      url=url, key_hint=key_hint, model=model)


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


class JsonClient:
    """One aiohttp session for one provider: JSON POSTs, a dropped connection as a ProviderError.

    The credential lives in the session's default headers, never in a URL or a message. The Model
    wrapper owns per-attempt timeouts, so aiohttp's own total timeout is off (only connect is bounded).
    """

    def __init__(self, headers: Mapping[str, str], *, provider: str, where: str, connect_hint: str) -> None:
        self._headers = {"Content-Type": "application/json", **headers}
        self._provider = provider
        self._where = where
        self._connect_hint = connect_hint
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(total=None, connect=30),
                headers=self._headers,
            )
        return self._session

    async def post(self, url: str, body: Mapping[str, Any]) -> tuple[int, Mapping[str, str], str]:
        """(status, headers, text) of one POST; connection failures raise ProviderError(kind="connection")."""
        import aiohttp

        try:
            async with self._client().post(url, data=encode_body(body)) as resp:
                text = decode_body(await resp.read(), resp.charset)
                elsewhere = other_origin(url, resp)
                if elsewhere is not None and resp.status in (401, 403):
                    raise redirect_refused(self._provider, self._where, elsewhere, resp.status, text)
                return resp.status, resp.headers, text
        except aiohttp.ClientError as exc:
            raise client_error(exc, provider=self._provider, where=self._where,
                               connect_hint=self._connect_hint) from None

    async def send(self, method: str, url: str, *, data: Any = None,
                   headers: Mapping[str, str] | None = None) -> tuple[int, Mapping[str, str], str]:
        """(status, headers, text) of any one exchange (a batch API's GET, a file upload as form data)."""
        import aiohttp

        try:
            async with self._client().request(method, url, data=data, headers=headers) as resp:
                return resp.status, resp.headers, decode_body(await resp.read(), resp.charset)
        except aiohttp.ClientError as exc:
            raise client_error(exc, provider=self._provider, where=self._where,
                               connect_hint=self._connect_hint) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            await asyncio.sleep(0)  # let aiohttp close its transports before the loop ends


def encode_body(body: Mapping[str, Any]) -> bytes:
    """A request body as JSON bytes: orjson (~0.1 µs a chat body against ~1.8 µs for ``json.dumps``); what it
    refuses (a lone surrogate in a prompt, an integer beyond 64 bits) goes through ``json.dumps``, which
    escapes it."""
    import orjson

    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body).encode("ascii")


def parse_json(text: str, *, provider: str, where: str, what: str) -> Any:
    """The JSON of a 2xx body; a body that is not JSON is a (retried) malformed answer. orjson first (~3x
    ``json.loads``); what it refuses goes to ``json.loads``, which also reads the ``NaN``/``Infinity`` some
    Python servers write for a log-probability."""
    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except ValueError:
        raise malformed(text, provider=provider, where=where, what=what) from None


def malformed(text: str, *, provider: str, where: str, what: str) -> ProviderError:
    return ProviderError(
        f"{where} returned a malformed {what}: {clip(text, 120)!r}",
        hint=f"the server's answer is not {what}; assay retries it",
        kind="malformed",
        provider=provider,
    )


def as_int(value: Any) -> int:
    """A token count from a usage field that may be missing, null, a float, a string or garbage (0)."""
    if type(value) is int:  # what servers send: no float round trip
        return value if 0 <= value < 2**53 else 0
    if isinstance(value, bool):
        return 0
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        return 0
    return int(number) if 0 <= number < 2**53 else 0


def decode_body(raw: bytes, charset: str | None) -> str:
    """A response body as text: its declared charset (else UTF-8), undecodable bytes replaced, so a body
    that is not valid text is a malformed answer (retried, counted), never a crash."""
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return raw.decode("utf-8", errors="replace")


def other_origin(url: str, resp: Any) -> str | None:
    """The origin (``scheme://host:port``) a redirected response came from, if it is not ``url``'s."""
    if not getattr(resp, "history", None):
        return None
    from urllib.parse import urlsplit

    def origin(text: str) -> tuple[str, str, int | None]:
        parts = urlsplit(text)
        return parts.scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(parts.scheme)

    final = str(resp.url)
    if origin(final) == origin(url):
        return None
    parts = urlsplit(final)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def redirect_refused(provider: str, where: str, elsewhere: str, status: int, body: str) -> ProviderError:
    """The server redirected to another origin, which refused the request: the HTTP client does not send
    the key across origins, so the key is not what is wrong — the address is."""
    message, _ = error_message(body)
    return ProviderError(
        f"{provider} at {where} redirected the request to {elsewhere}, which refused it ({status}): {message}",
        hint=f"the key is not sent to another host on a redirect; set base_url to the address {elsewhere} "
             "serves, if you trust it",
        kind="redirect", status=status, provider=provider,
    )


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
                         hint="assay retries this; check base_url points at the API", kind="malformed",
                         provider=provider)
