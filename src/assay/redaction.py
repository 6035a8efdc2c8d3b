"""The redactor: every secret in play, and the one place output goes through to lose them.

A :class:`Redactor` is built by the entry point, fed the secrets of the run's :class:`Settings` and any
secret-looking ``--model_args`` values, and then applied to logs (through :class:`RedactingFilter`),
error messages, tables and JSON documents. It imports nothing heavy and nothing of ours at run time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from assay.settings import Settings

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


def is_secret_key(name: str) -> bool:
    """Whether a config/argument key names a secret: ``api_key``, ``token``, ``*_token``, ``*_key``…"""
    key = name.strip().lower().replace("-", "_")
    if key in _NOT_SECRET:
        return False
    return key in _SECRET_NAMES or key.endswith(_SECRET_SUFFIXES)


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


class Redactor:
    """Knows every secret value in play and replaces it with ``<redacted:LABEL>`` wherever it appears."""

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}  # secret value (and its variants) -> label
        self._pattern: re.Pattern[str] | None = None

    # -- registering ------------------------------------------------------------------------------

    def add(self, value: str | None, label: str) -> None:
        """Register a secret. The first label a value was registered with is kept."""
        if not value:
            return
        variants = {value, quote(value, safe="")}  # as is, and as it would appear in a URL
        for variant in variants:
            if variant not in self._labels:
                self._labels[variant] = label
                self._pattern = None

    def add_settings(self, settings: Settings) -> None:
        """Register every secret setting that is set, labelled with its variable name."""
        for name, value in settings.secret_values().items():
            self.add(value, name)

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
                elif isinstance(value, str) and value and is_secret_key(str(key)):
                    self.add(value, f"{label_base}.{dotted}")
                    found.append(dotted)

        walk(args, "")
        return found

    def __len__(self) -> int:
        return len(set(self._labels.values()))

    def labels(self) -> list[str]:
        """The labels of the registered secrets (never the values)."""
        return sorted(set(self._labels.values()))

    # -- applying ---------------------------------------------------------------------------------

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None:
            searchable = sorted((v for v in self._labels if len(v) >= MIN_TEXT_SECRET), key=len, reverse=True)
            if not searchable:
                return None
            # Longest first: where one secret contains another, the longer one wins.
            self._pattern = re.compile("|".join(re.escape(v) for v in searchable))
        return self._pattern

    def redact(self, text: str) -> str:
        """``text`` with every registered secret (of at least 6 characters) replaced."""
        pattern = self._compiled()
        if pattern is None or not text:
            return text
        return pattern.sub(lambda m: f"<redacted:{self._labels[m.group(0)]}>", text)

    def redact_obj(self, obj: Any) -> Any:
        """A copy of ``obj`` (dicts, lists, tuples, strings, recursively) with secrets replaced; string
        values of secret-looking keys are masked whatever they are."""
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, Mapping):
            out: dict[Any, Any] = {}
            for key, value in obj.items():
                new_key = self.redact(key) if isinstance(key, str) else key
                if isinstance(key, str) and isinstance(value, str) and value and is_secret_key(key):
                    out[new_key] = f"<redacted:{self._labels.get(value, key)}>"
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
