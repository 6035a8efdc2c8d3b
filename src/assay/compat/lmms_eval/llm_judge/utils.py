"""``lmms_eval.llm_judge.utils``: prompt builders and response parsers with lmms-eval's signatures.

The parsers return what lmms-eval's return when an answer cannot be read (``0``, the range minimum,
``(-1, -1)``, ``{}``), so helper code behaves the same — but they also mark that judge answer as a
parse failure in the current sample's judge log, and assay excludes the sample instead of scoring it.
"""

from __future__ import annotations

import re
from typing import Any

from assay.judge import parsers as p
from assay.judge.log import current_judge_log

from .prompt import BINARY_JUDGE_PROMPT, COMPARATIVE_JUDGE_PROMPT, CORRECTNESS_JUDGE_PROMPT


def _labels(output_format: str) -> tuple[str, str]:
    return ("1", "0") if output_format in ("0/1", "1/0") else ("Yes", "No")


class JudgePromptBuilder:
    @staticmethod
    def build_binary_prompt(question: str, answer: str, prediction: str, output_format: str = "0/1",
                            custom_prompt: str | None = None, **kwargs: Any) -> str:
        if custom_prompt:
            return custom_prompt.format(question=question, answer=answer, pred=prediction, prediction=prediction,
                                        **kwargs)
        positive, negative = _labels(output_format)
        return BINARY_JUDGE_PROMPT.format(question=question, answer=answer, prediction=prediction,
                                          positive=positive, negative=negative)

    @staticmethod
    def build_comparative_prompt(question: str, response1: str, response2: str, context: str | None = None,
                                 score_range: tuple[int, int] = (1, 10), custom_prompt: str | None = None,
                                 evaluation_instruction: str | None = None, **kwargs: Any) -> str:
        if custom_prompt:
            return custom_prompt.format(question=question, response1=response1, response2=response2,
                                        context=context or "", **kwargs)
        return COMPARATIVE_JUDGE_PROMPT.format(
            question=question, response1=response1, response2=response2,
            context_section=f"[Context]\n{context}\n\n" if context else "",
            min_score=score_range[0], max_score=score_range[1], evaluation_instruction=evaluation_instruction or "")

    @staticmethod
    def build_correctness_prompt(question: str, answer: str, prediction: str, output_format: str = "yes/no",
                                 **kwargs: Any) -> str:
        positive, negative = ("Yes", "No") if output_format == "yes/no" else ("1", "0")
        return CORRECTNESS_JUDGE_PROMPT.format(question=question, answer=answer, prediction=prediction,
                                               positive=positive, negative=negative)


def binary_parser(output_format: str) -> p.Parser:
    """0/1 (a whole number 0 or 1, or yes/no) or yes/no, strictly."""
    if output_format not in ("0/1", "1/0"):
        return p.yes_no

    def parse(text: str) -> int:
        try:
            return int(p.score(0, 1, integer=True)(text))
        except p.ParseError:
            return int(p.yes_no(text))

    return parse


def comparative_parser(score_range: tuple[float, float] | None = None) -> p.Parser:
    """Two scores on the first line (each in ``score_range`` when given)."""

    def parse(text: str) -> tuple[float, float]:
        first = text.strip().split("\n")[0].replace(",", " ").replace(";", " ")
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", first)]
        if len(numbers) != 2:
            raise p.ParseError(f"expected two scores on the first line, found {len(numbers)}")
        if score_range and not all(score_range[0] <= n <= score_range[1] for n in numbers):
            raise p.ParseError(f"scores {numbers} are outside {score_range[0]:g}–{score_range[1]:g}")
        return numbers[0], numbers[1]

    return parse


def _reading(text: str, parser: p.Parser, fallback: Any) -> Any:
    """``parser(text)``, or ``fallback`` with the answer marked unparseable in the sample's judge log."""
    try:
        return parser(text)
    except p.ParseError as exc:
        log = current_judge_log.get()
        if log is not None:
            log.reject_raw(text, str(exc))
        return fallback


class ResponseParser:
    @staticmethod
    def parse_binary_response(response: str, output_format: str = "0/1") -> int | bool:
        fallback: int | bool = 0 if output_format in ("0/1", "1/0") else False
        return _reading(response, binary_parser(output_format), fallback)  # type: ignore[no-any-return]

    @staticmethod
    def parse_score_response(response: str, score_range: tuple[float, float] | None = None) -> float:
        low, high = score_range if score_range else (float("-inf"), float("inf"))
        return float(_reading(response, p.score(low, high), low if score_range else 0.0))

    @staticmethod
    def parse_comparative_response(response: str) -> tuple[float, float]:
        return _reading(response, comparative_parser(), (-1.0, -1.0))  # type: ignore[no-any-return]

    @staticmethod
    def parse_json_response(response: str) -> dict[str, Any]:
        return _reading(response, p.json_object(), {})  # type: ignore[no-any-return]
