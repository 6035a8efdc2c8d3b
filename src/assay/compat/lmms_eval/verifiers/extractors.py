"""``lmms_eval.verifiers.extractors``: per-answer clean-ups applied before a verifier."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from assay.tasks.scoring.filters import DEFAULT_TAG_PAIRS, strip_reasoning_tags

from .base import Extractor

__all__ = ["MCQExtractor", "NumberExtractor", "RegexExtractor", "StripExtractor", "StripReasoningExtractor"]


class StripReasoningExtractor(Extractor):
    def __init__(self, tag_pairs: Sequence[Sequence[str]] | None = None) -> None:
        self.tag_pairs = [list(p) for p in (tag_pairs or DEFAULT_TAG_PAIRS)]

    def extract(self, text: str, **kwargs: Any) -> str:
        if not isinstance(text, str):
            return "" if text is None else str(text)
        return strip_reasoning_tags(text, self.tag_pairs)


class RegexExtractor(Extractor):
    def __init__(self, pattern: str, group: int = 1, fallback: str = "", flags: int = 0) -> None:
        self.regex = re.compile(pattern, flags)
        self.group = group
        self.fallback = fallback

    def extract(self, text: str, **kwargs: Any) -> str:
        match = self.regex.search(text)
        if not match:
            return self.fallback
        try:
            return str(match.group(self.group)).strip()
        except IndexError:
            return match.group(0).strip()


class MCQExtractor(Extractor):
    """The option letter, by the task tree's own ``_task_utils.mcq_extract`` (as lmms-eval delegates)."""

    def __init__(self, choices: Sequence[str] | None = None) -> None:
        self.choices = choices

    def extract(self, text: str, **kwargs: Any) -> str:
        from lmms_eval.tasks._task_utils.mcq_extract import extract_mcq_answer

        return str(extract_mcq_answer(text, kwargs.get("choices", self.choices)))


class NumberExtractor(Extractor):
    """``\\boxed{…}``, else the last number in the text."""

    _BOXED = re.compile(r"\\boxed\{([^}]+)\}")
    _NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")

    def __init__(self, fallback: str = "") -> None:
        self.fallback = fallback

    def extract(self, text: str, **kwargs: Any) -> str:
        boxed = self._BOXED.search(text)
        if boxed:
            return boxed.group(1).strip()
        numbers = self._NUMBER.findall(text)
        return numbers[-1].replace(",", "") if numbers else self.fallback


class StripExtractor(Extractor):
    _SPECIAL = ("</s>", "<|endoftext|>", "<|end_of_sentence|>", "<|im_end|>", "[/INST]")

    def extract(self, text: str, **kwargs: Any) -> str:
        for token in self._SPECIAL:
            text = text.replace(token, "")
        return text.strip()
