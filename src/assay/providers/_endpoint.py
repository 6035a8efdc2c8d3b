"""Checks every HTTP provider runs on its address and key before the first request.

A base URL is parsed, not pasted together: its query string (``?api-version=…``, ``?key=…``) stays at the
end of every request URL, ``user:password@`` becomes Basic authentication instead of part of the host,
and only http(s) is accepted. A key with a newline or another control character in it would be refused
by the HTTP client on every request; it is a configuration error, found once, up front. (A TAB inside
a key is legal in an HTTP header, so it is sent as it is.)
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from assay.env.masking import identity_url, looks_like_credential, mask_url
from assay.errors import ConfigError, CredentialError, ProviderError

if TYPE_CHECKING:
    from assay.env.settings import Settings


@dataclass(frozen=True)
class BaseURL:
    """A parsed base URL: ``base`` (scheme, host, path; no credentials, query or trailing slash), the
    ``query`` to append to every request URL, and ``user``/``password`` from its userinfo, if any."""

    base: str
    query: str = ""
    user: str | None = None
    password: str | None = None

    def url(self, path: str) -> str:
        """``base/path`` with the base URL's query string kept at the end."""
        joined = f"{self.base}/{path.lstrip('/')}"
        return f"{joined}?{self.query}" if self.query else joined

    @property
    def has_credentials(self) -> bool:
        return self.user is not None

    def basic_auth(self) -> dict[str, str]:
        """``{"Authorization": "Basic …"}`` from the URL's ``user:password@`` (for vendors whose key goes in
        a header of its own); ``{}`` without userinfo."""
        if self.user is None:
            return {}
        plain = check_key(f"{self.user}:{self.password or ''}", setting="the user:password in the base URL")
        return {"Authorization": "Basic " + base64.b64encode(plain.encode("utf-8")).decode("ascii")}

    @property
    def public_url(self) -> str:
        """The base URL as an identity and in results: no userinfo, no secret-looking query parameter."""
        return identity_url(f"{self.base}?{self.query}" if self.query else self.base)


def authorization(endpoint: BaseURL, key: str | None, *, url_setting: str, key_setting: str,
                  key_given: bool) -> str | None:
    """The ``Authorization`` header value: ``Basic`` from the URL's ``user:password@`` if it has one, else
    ``Bearer <key>`` (None without a key). A key given explicitly *and* credentials in the URL would both
    be the one header: that is a configuration error, not a guess."""
    if endpoint.has_credentials:
        if key_given:
            raise ConfigError(f"{url_setting} carries user:password and {key_setting} is given too",
                              hint="keep one: both would be the request's Authorization header")
        plain = f"{endpoint.user}:{endpoint.password or ''}"
        check_key(plain, setting=f"the user:password in {url_setting}")
        return "Basic " + base64.b64encode(plain.encode("utf-8")).decode("ascii")
    if not key:
        return None
    return "Bearer " + check_key(key, setting=key_setting)


def parse_base_url(value: str, *, setting: str) -> BaseURL:
    """``value`` as a :class:`BaseURL`; a ConfigError naming ``setting`` (never the credentials in it)
    for anything that is not an absolute http(s) URL."""
    text = str(value).strip()
    # A key pasted where the address goes (OPENAI_BASE_URL=sk-…) is not echoed by the error about it.
    shown = "<hidden: looks like a credential>" if looks_like_credential(text) and "://" not in text else mask_url(text)
    hint = f"set {setting} to the server's address, e.g. https://api.openai.com/v1 or http://localhost:8000/v1"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ConfigError(f"{setting} contains a control character (a newline?)", hint=hint)
    try:
        parts = urlsplit(text)
        port = parts.port  # ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise ConfigError(f"{setting} {shown} is not a valid URL: {exc}", hint=hint) from None
    if parts.scheme.lower() not in ("http", "https"):
        scheme = f"`{parts.scheme}://`" if parts.scheme else "no scheme"
        raise ConfigError(f"{setting} {shown} has {scheme}; only http:// and https:// are supported", hint=hint)
    if not parts.hostname:
        raise ConfigError(f"{setting} {shown} has no host", hint=hint)
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = f"{host}:{port}" if port is not None else host
    base = urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return BaseURL(base, parts.query, user, password)


def required_key(given: Any, settings: Settings, field: str, variable: str, *, hint: str) -> str:
    """The key from ``--model_args api_key`` (``given``) or the ``field`` setting, checked for use in a header;
    a CredentialError naming ``variable`` when neither is set."""
    value = given or settings.secret(field)
    if not value:
        raise CredentialError(f"{variable} is not set", hint=hint)
    return check_key(str(value), setting="--model_args api_key" if given else variable)


def check_key(value: str, *, setting: str) -> str:
    """``value`` if it can go into an HTTP header; a ConfigError naming ``setting`` (never the value)."""
    hint = f"check {setting}: a key is one line of printable ASCII (a stray newline or quote from copy-paste?)"
    for ch in value:
        if ch in "\r\n":
            raise ConfigError(f"{setting} contains a line break", hint=hint)
        if (ord(ch) < 32 and ch != "\t") or ord(ch) == 127:  # HTTP allows a TAB inside a header value
            raise ConfigError(f"{setting} contains a control character", hint=hint)
        if ord(ch) > 126:
            raise ConfigError(f"{setting} contains a non-ASCII character", hint=hint)
    if value != value.strip():
        raise ConfigError(f"{setting} starts or ends with a space", hint=hint)
    return value


#: Endpoint paths people paste as a base URL: the full ``…/chat/completions`` URL is taken as meant.
_ENDPOINT_SUFFIXES = ("/chat/completions", "/completions")


def without_endpoint_path(url: BaseURL) -> BaseURL:
    """``http://host/v1/chat/completions`` given as a base URL is ``http://host/v1`` (what the OpenAI SDK's
    base_url means): the path is not appended a second time."""
    for suffix in _ENDPOINT_SUFFIXES:
        if url.base.endswith(suffix):
            return BaseURL(url.base[: -len(suffix)], url.query, url.user, url.password)
    return url


def route_not_found(exc: ProviderError, called: str, base: str) -> ProviderError:
    """A 404 for the route itself (not an unknown model): the URL that was called, and the likely fix."""
    from urllib.parse import urlsplit

    if "model" in exc.message.lower():  # the server found the route and says which model it lacks
        return exc
    hint = exc.hint
    if not urlsplit(base).path.rstrip("/").endswith("/v1"):
        hint = (f"OpenAI-compatible servers answer under /v1: try base_url={mask_url(base)}/v1 (base_url is the "
                "API root, as the openai SDK means it)")
    return ProviderError(f"{exc.message} (POST {mask_url(called)})", hint=hint, kind=exc.kind, status=exc.status,
                         provider=exc.provider, retryable=exc.retryable, request_id=exc.request_id)
