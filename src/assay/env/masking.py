"""Masking: what a secret looks like and how it is shown — the rules both settings and the redactor use.

Plain functions over strings and mappings; nothing of ours is imported, so :mod:`assay.env.settings` can
mask its own values and :mod:`assay.env.redaction` can build on the same rules without a cycle.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit, urlunsplit

#: Values shorter than this are not searched for inside text (they would shred ordinary words);
#: they are still masked where they are the whole value of a secret-looking key.
MIN_TEXT_SECRET = 6

_SECRET_NAMES = frozenset(
    {
        "api_key", "apikey", "key", "token", "secret", "password", "passwd", "passphrase",
        "hf_token", "access_token", "auth_token", "authorization", "auth", "bearer", "credentials",
        "client_secret", "private_key", "secret_key", "access_key", "subscription_key",
    }
)
_SECRET_SUFFIXES = ("_token", "_key", "_secret", "_password", "_apikey", "_passwd", "_credentials")
# Names with a secret-looking suffix that are ordinary configuration (tokenizer and dataset fields).
_NOT_SECRET = frozenset(
    {
        "bos_token", "eos_token", "pad_token", "unk_token", "sep_token", "cls_token", "mask_token",
        "image_token", "video_token", "audio_token", "stop_token", "max_token", "num_token",
        "cache_key", "sort_key", "group_key", "doc_key", "id_key", "answer_key", "image_key",
        "label_key", "text_key", "question_key", "target_key", "input_key", "output_key",
        "metric_key", "dataset_key", "split_key", "column_key", "primary_key", "partition_key",
    }
)

#: Vendor prefixes that identify a key's kind without revealing any of its secret part.
_KNOWN_PREFIXES = ("sk-ant-", "sk-proj-", "sk-or-", "sk-", "hf_", "xai-", "gsk_", "r8_", "AIza")
#: Query parameters that carry credentials in URLs although their names do not say "key" or "token".
_SECRET_QUERY_NAMES = frozenset({"sig", "signature", "x-amz-signature", "x-amz-credential", "x-goog-signature",
                                 "x-amz-security-token", "code", "pass", "pwd", "session", "sessionid"})
#: Credentials whose shape gives them away, masked wherever they appear even if nobody registered them
#: (a key pasted into the wrong setting, a server echoing another key).
SHAPED_SECRETS = re.compile(
    # not inside a word, unless the "word" is an escape (``\\nsk-…`` in a repr or JSON text)
    r"(?:(?<![A-Za-z0-9_-])|(?<=\\[nrtbf]))(?:sk-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,}|AIza[0-9A-Za-z_-]{35}|xai-[A-Za-z0-9]{20,}"
    r"|gsk_[A-Za-z0-9]{20,}|r8_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|AKIA[0-9A-Z]{16})"
    r"|(?<=Bearer )(?=[A-Za-z._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{8,}"  # a token has digits; prose has not
)
#: ``scheme://user:password@`` anywhere in text (an already redacted part may be inside).
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>(?:<redacted:[^>]*>|[^/?#@\s\"'<>])+)@")
_ONE_REDACTION = re.compile(r"<redacted:[^>]*>")
#: ``?name=value`` / ``&name=value`` pairs (masked when the name is secret-looking).
_QUERY_PAIR = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&#?;\s\"'<>]{1,64})=(?P<value>[^&#;\s\"'<>]*)")


def short_secret_warning(label: str) -> str:
    """What to say about a credential too short to be masked in free text."""
    return (f"{label} is shorter than {MIN_TEXT_SECRET} characters: too short to be found and masked inside "
            "free text (logs, error messages, model answers), so it is masked only where it is a whole value; "
            "real keys are longer — check it")


def is_secret_key(name: str) -> bool:
    """Whether a config/argument key names a secret: ``api_key``, ``token``, ``*_token``, ``*_key``…"""
    key = name.strip().lower().replace("-", "_")
    if key in _NOT_SECRET:
        return False
    return key in _SECRET_NAMES or key.endswith(_SECRET_SUFFIXES)


def is_secret_query_name(name: str) -> bool:
    """Whether a URL query parameter carries a credential (``key``, ``api_key``, ``token``, ``sig``…)."""
    key = unquote(name).strip().lower()
    return is_secret_key(key) or key in _SECRET_QUERY_NAMES


def url_secrets(url: str) -> list[str]:
    """The credential parts of a URL: ``user:password`` (and each half), secret-looking query values."""
    if "://" not in url:
        return []
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return []
    found: list[str] = []
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if userinfo:
        user, _, password = userinfo.partition(":")
        plain = f"{unquote(user)}:{unquote(password)}" if password else unquote(user)
        # The whole userinfo, each half, and the Basic-auth header value an HTTP client derives from it.
        found.extend(v for v in (userinfo, unquote(user), unquote(password), user, password) if v)
        found.append(base64.b64encode(plain.encode("utf-8", "surrogatepass")).decode("ascii"))
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if value and is_secret_query_name(name):
            found.append(value)
    return list(dict.fromkeys(found))


def mask_url(url: str) -> str:
    """``url`` with its userinfo and secret-looking query values replaced (for display and results)."""
    return mask_urls_in_text(url)


def hashed(value: object) -> str:
    """A stand-in that tells values apart without storing them (the cache identity): ``sha256:<16 hex>``."""
    return "sha256:" + hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def identity_url(url: str) -> str:
    """A URL for a cache identity: userinfo and secret-looking query parameters dropped (credentials
    decide who may ask, never what the answer is)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    query = "&".join(f"{quote(n, safe='')}={quote(v, safe='')}"
                     for n, v in parse_qsl(parts.query, keep_blank_values=True) if not is_secret_query_name(n))
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def public_identity(identity: Mapping[str, Any]) -> dict[str, Any]:
    """A provider identity with nothing secret in it, for the cache key and the cache file.

    The provider's own credential fields (``api_key``) are dropped, like URL userinfo and ``?key=…``:
    they never change an answer. Secret-looking values *sent to the model* (a ``body`` argument such as
    ``access_token``) may, so they are kept as a hash: told apart, never stored."""
    return {k: _public(v) for k, v in identity.items() if not is_secret_value(k, v)}


def _public(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: hashed(v) if is_secret_value(k, v) else _public(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_public(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return identity_url(value)
    return value


def is_secret_value(key: object, value: object) -> bool:
    """A value under a secret-looking key that is a credential, not a flag (``token: true``)."""
    if not isinstance(key, str) or not is_secret_key(key) or value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        return bool(value)
    return isinstance(value, (int, float)) and len(str(value)) >= MIN_TEXT_SECRET


def _mask_query(match: re.Match[str]) -> str:
    value = match.group("value")
    if not value or value.startswith("<redacted") or not is_secret_query_name(match.group("name")):
        return match.group(0)
    return f"{match.group('sep')}{match.group('name')}=<redacted:query>"


def _mask_userinfo(match: re.Match[str]) -> str:
    userinfo = match.group("userinfo")
    if _ONE_REDACTION.fullmatch(userinfo):  # already masked with its label: keep that
        return match.group(0)
    return f"{match.group('scheme')}<redacted:userinfo>@"


def mask_urls_in_text(text: str) -> str:
    if "://" in text:
        text = _URL_USERINFO.sub(_mask_userinfo, text)
    if "=" in text and ("?" in text or "&" in text or ";" in text):
        text = _QUERY_PAIR.sub(_mask_query, text)
    return text


def escaped_forms(value: str) -> set[str]:
    """The forms a secret takes once serialized: as is, URL-encoded (both ways), JSON-escaped (also
    ASCII-only and twice, for JSON inside JSON), Python-repr-escaped and HTML-escaped."""
    forms = {value, quote(value, safe=""), quote_plus(value, safe=""), html_escaped(value)}
    for ascii_only in (False, True):
        once = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        forms.update({once, json.dumps(once, ensure_ascii=ascii_only)[1:-1]})
    forms.add(repr(value)[1:-1])
    return {f for f in forms if f}


def html_escaped(value: str) -> str:
    """``html.escape(value, quote=True)``, without importing :mod:`html` (~1 ms of every run's start-up: its
    entity tables are for unescaping). The same five replacements, in the same order; a test holds the two
    equal."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&#x27;"))


def looks_like_credential(text: str) -> bool:
    """Whether a value has the shape of a key or token (a vendor prefix; or long, one word, letters and
    digits mixed), so that an error message about it must not echo it."""
    text = text.strip()
    if SHAPED_SECRETS.search(text) or url_secrets(text):
        return True
    return (len(text) >= 20 and not any(ch.isspace() for ch in text)
            and any(ch.isdigit() for ch in text) and any(ch.isalpha() for ch in text) and "/" not in text)


def shown_value(value: object, limit: int = 40) -> str:
    """``repr(value)`` for an error message, unless it looks like a credential (then ``<hidden>``): a key
    pasted into the wrong setting must not be echoed back by that setting's error."""
    if isinstance(value, str) and looks_like_credential(value):
        return "<hidden: looks like a credential>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mask(value: str | None) -> str:
    """A secret for display: ``sk-…9f2c``. Never more than the last 4 characters of the secret part;
    values shorter than 12 characters are shown as ``****`` and an empty/missing one as ``""``."""
    if not value:
        return ""
    if len(value) < 12:
        return "****"
    prefix = next((p for p in _KNOWN_PREFIXES if value.startswith(p)), "")
    if len(value) - len(prefix) < 12:  # the prefix would leave too little hidden
        prefix = ""
    return f"{prefix}…{value[-4:]}"


_PLACEHOLDER = re.compile(r"\.\.\.|…|x{4,}|<[^>]*>|\byour[-_ ]|changeme|placeholder|^sk-$|^\*+$", re.IGNORECASE)


def looks_like_placeholder(value: str) -> bool:
    """Whether a credential is a documentation placeholder (``sk-...``, ``<your key>``, ``xxxx``), not a key:
    set, but certain to be refused."""
    return bool(_PLACEHOLDER.search(value.strip()))
