"""Cutting text short without leaving part of a secret behind (the ground floor: every layer cuts text).

Error bodies, doc fields and judge answers are cut to keep files and messages readable. A cut made before
the redactor sees the text, or by code that has no redactor, must not end inside a word: a key that
straddled the cut would leave its first characters, which the redactor (knowing only whole keys and whole
shapes) cannot recognise. Where a redactor is at hand, it runs first.
"""

from __future__ import annotations

from collections.abc import Callable

#: What ends a word: a credential in any of its forms (raw, URL-, JSON- or HTML-escaped) holds none of these.
_BETWEEN_WORDS = frozenset("\"'<>()[]{},;|")


def clip(text: str, limit: int, *, redact: Callable[[str], str] | None = None) -> str:
    """``text`` cut to at most ``limit`` characters (plus "…"), redacted first when ``redact`` is given, and
    never ending in part of a word: a key that straddled the cut would otherwise leave its first characters
    (``Bearer sk-proj-QwErTy…``) where the redactor, which knows only whole keys, cannot see them."""
    if redact is not None:
        text = redact(text)
    if len(text) <= limit:
        return text
    end = limit
    if not _ends_word(text[limit]):  # the cut falls inside a word: drop the part before it too
        while end > 0 and not _ends_word(text[end - 1]):
            end -= 1
    return text[:end].rstrip() + "…"


def _ends_word(char: str) -> bool:
    return char.isspace() or char in _BETWEEN_WORDS
