"""The redactor: every secret in play, and the one place output goes through to lose them.

A :class:`Redactor` is built by the entry point, fed the secrets of the run's :class:`Settings` and any
secret-looking ``--model_args`` values, and then applied to logs (through :class:`RedactingFilter`),
error messages, tables and JSON documents. It imports nothing heavy and nothing of ours at run time.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from assay.env.masking import (
    MIN_TEXT_SECRET,
    SHAPED_SECRETS,
    escaped_forms,
    is_secret_value,
    mask_urls_in_text,
    url_secrets,
)

if TYPE_CHECKING:
    from assay.env.settings import Settings

#: Credentials by shape, without the "not inside a word" guard: in serialized text an escape such as
#: ``\n`` puts a letter before a key that stood at the start of a line in the value.
_SHAPES_ANYWHERE = SHAPED_SECRETS.pattern.replace("(?<![A-Za-z0-9_-])", "", 1)
#: What URL masking needs to find anything: userinfo (``scheme://…@``), or a ``?name=`` query pair (the
#: name up to 6× longer once control characters are escaped).
_URL_SIGNS = r"://[^\s\"']*@|[?&;][^=&#?;\s\"'<>]{1,400}="
#: What every credential shape of SHAPED_SECRETS starts with — ``sk-``, ``xai-``; ``hf_``, ``gsk_``, ``r8_``,
#: ``gh[pousr]_``; ``AIza``, ``AKIA``; ``Bearer `` — as searches that scan for one character (memchr speed):
#: a line holding none of them cannot match a shape, so the screen's regex (~16 µs a sample line against
#: ~1 µs for these) runs only on lines that hold one, or a sign of a URL credential.
_DASH_SHAPES = re.compile("-(?<=sk-|ai-)")
_UNDERSCORE_SHAPES = re.compile("_(?<=hf_|sk_|r8_|h[pousr]_)")
_OTHER_SHAPES = ("AIza", "AKIA", "Bearer ")


class Redactor:
    """Knows every secret value in play and replaces it with ``<redacted:LABEL>`` wherever it appears."""

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}  # secret value (and its escaped forms) -> label
        self._values: dict[str, str] = {}  # secret value as registered -> label
        self._pattern: re.Pattern[str] | None = None
        self._screen: re.Pattern[str] | None = None
        self._forms: tuple[str, ...] = ()  # every searchable form as it appears inside a JSON string
        self._compiled_for = -1  # how many forms were registered when the patterns were compiled

    # -- registering ------------------------------------------------------------------------------

    def add(self, value: str | None, label: str) -> None:
        """Register a secret. The first label a value was registered with is kept."""
        if not value:
            return
        self._values.setdefault(value, label)
        for variant in escaped_forms(value):  # a secret in escaped form is still the secret
            if variant not in self._labels:
                self._labels[variant] = label

    def add_url(self, url: str, label: str) -> None:
        """Register the credentials inside a URL (``user:password@``, ``?key=…``). Parts too short to search
        for are left to the URL patterns of :meth:`redact`, which mask any userinfo whatever its length."""
        for value in url_secrets(url):
            if len(value) >= MIN_TEXT_SECRET:
                self.add(value, label)

    def add_settings(self, settings: Settings) -> None:
        """Register every secret setting that is set, labelled with its variable name, and the credentials
        inside any URL-valued setting (``OPENAI_BASE_URL=https://user:pass@host``)."""
        for name, value in settings.secret_values().items():
            self.add(value, name)
        for name, value in settings.url_values().items():
            self.add_url(value, name)

    def short_labels(self) -> list[str]:
        """Labels of registered secrets too short to be searched for in free text (see MIN_TEXT_SECRET)."""
        return sorted({label for value, label in self._values.items() if len(value) < MIN_TEXT_SECRET})

    def add_args(self, args: Mapping[str, Any], flag: str) -> list[str]:
        """Register the string values of secret-looking keys of parsed ``flag`` arguments (nested
        mappings too) and return those keys (dotted when nested), so the caller can warn about them."""
        found: list[str] = []
        label_base = flag.lstrip("-")

        def walk(mapping: Mapping[str, Any], prefix: str) -> None:
            for key, value in mapping.items():
                dotted = f"{prefix}{key}"
                if isinstance(value, Mapping):
                    walk(value, f"{dotted}.")
                elif is_secret_value(key, value):
                    self.add(str(value), f"{label_base}.{dotted}")
                    found.append(dotted)
                elif isinstance(value, str) and "://" in value:
                    self.add_url(value, f"{label_base}.{dotted}")

        walk(args, "")
        return found

    def __len__(self) -> int:
        return len(set(self._labels.values()))

    def labels(self) -> list[str]:
        """The labels of the registered secrets (never the values)."""
        return sorted(set(self._labels.values()))

    # -- applying ---------------------------------------------------------------------------------

    def _compiled(self) -> re.Pattern[str] | None:
        """The registered secrets as one pattern (None with none registered), compiled once per change."""
        if self._compiled_for != len(self._labels):
            searchable = sorted((v for v in self._labels if len(v) >= MIN_TEXT_SECRET), key=len, reverse=True)
            # Longest first: where one secret contains another, the longer one wins.
            self._pattern = re.compile("|".join(re.escape(v) for v in searchable)) if searchable else None
            # Each form also as it looks inside a JSON string (a repr or HTML form may hold a backslash).
            serialized = {json.dumps(v, ensure_ascii=False)[1:-1] for v in searchable} | set(searchable)
            self._screen = re.compile("|".join([*(re.escape(v) for v in serialized), _SHAPES_ANYWHERE, _URL_SIGNS]))
            self._forms = tuple(sorted(serialized, key=len))
            self._compiled_for = len(self._labels)
        return self._pattern

    def may_change(self, serialized: str) -> bool:
        """Whether :meth:`redact` could change any string whose JSON form (``ensure_ascii=False``) is inside
        ``serialized``: one search, so a record is redacted string by string only when this says so. It
        looks for a superset of what redaction replaces — every registered form as it is escaped in JSON,
        every credential shape even inside a word, every URL userinfo or query pair — so a False is safe.
        Substring tests come first (a registered form found is an answer; a shape's literal or a URL sign
        sends the line to the full search); most lines hold none of them and never reach the regex."""
        self._compiled()
        assert self._screen is not None
        for form in self._forms:
            if form in serialized:
                return True
        if not _may_hold_shape(serialized):
            return False
        return self._screen.search(serialized) is not None

    def redact(self, text: str) -> str:
        """``text`` with every registered secret (of at least 6 characters, in any escaped form) replaced,
        then URL userinfo and secret-looking query values, then credentials recognisable by their shape."""
        if not text:
            return text
        pattern = self._compiled()
        if pattern is not None:
            text = pattern.sub(lambda m: f"<redacted:{self._labels[m.group(0)]}>", text)
        text = mask_urls_in_text(text)
        return SHAPED_SECRETS.sub("<redacted:credential>", text)

    def redact_obj(self, obj: Any) -> Any:
        """A copy of ``obj`` (dicts, lists, tuples, strings, recursively) with secrets replaced; string
        values of secret-looking keys are masked whatever they are."""
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, Mapping):
            out: dict[Any, Any] = {}
            for key, value in obj.items():
                new_key = self.redact(key) if isinstance(key, str) else key
                if is_secret_value(key, value):
                    out[new_key] = f"<redacted:{self._labels.get(str(value), key)}>"
                else:
                    out[new_key] = self.redact_obj(value)
            return out
        if isinstance(obj, list):
            return [self.redact_obj(v) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self.redact_obj(v) for v in obj)
        return obj

    def filter(self) -> RedactingFilter:
        """A logging filter applying this redactor (attach it to a handler)."""
        return RedactingFilter(self)


def _may_hold_shape(text: str) -> bool:
    """Whether ``text`` holds what a credential shape or a URL credential needs to match (a superset)."""
    if "-" in text and _DASH_SHAPES.search(text):
        return True
    if "_" in text and _UNDERSCORE_SHAPES.search(text):
        return True
    for literal in _OTHER_SHAPES:
        if literal in text:
            return True
    if "@" in text and "://" in text:
        return True
    return "=" in text and ("?" in text or "&" in text or ";" in text)


class RedactingFilter(logging.Filter):
    """Formats each record's message with its args, then redacts it (and any exception text).

    Attach it to a *handler*: a filter on a logger does not see records propagated from its children.
    The record is changed in place, so handlers after this one see the redacted text too.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad %-args: keep what we can, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = self.redactor.redact(message)
        record.args = None
        if record.exc_info and record.exc_info != (None, None, None):
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None  # handlers must use the redacted text, not re-render the exception
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.redact(record.stack_info)
        return True
