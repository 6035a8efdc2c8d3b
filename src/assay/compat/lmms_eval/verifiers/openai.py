"""``lmms_eval.verifiers.openai``: an LLM verdict through ``lmms_eval.llm_judge`` (assay's judge).

Every call goes through the run's judge (retries, cache, failure accounting). A failed judgement is a
``VerifyResult`` with ``metadata["judge_failed"] = True``, as lmms-eval reports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .base import Verifier, VerifyResult, parse_binary_response


def _score(text: str, score_range: tuple[float, float]) -> float:
    numbers = re.findall(r"-?\d+(?:\.\d+)?", text)
    if not numbers:
        return 0.0
    low, high = score_range
    raw = float(numbers[0])
    if high == low:
        return 1.0 if raw >= high else 0.0
    return max(0.0, min(1.0, (raw - low) / (high - low)))


class OpenAIVerifier(Verifier):
    def __init__(self, model: str = "gpt-4o-2024-11-20", api_type: str | None = None, judge_type: str = "binary",
                 custom_prompt: str | Callable[..., str] | None = None, response_format: str = "binary",
                 response_parser: Callable[[str], VerifyResult] | None = None,
                 score_range: tuple[float, float] = (0.0, 10.0), max_retries: int = 5, retry_delay: float = 2.0,
                 temperature: float = 0.0, max_tokens: int = 1024) -> None:
        from ..llm_judge import get_server
        from ..llm_judge.protocol import ServerConfig

        self.judge_type, self.custom_prompt = judge_type, custom_prompt
        self.response_format, self.response_parser, self.score_range = response_format, response_parser, score_range
        config = ServerConfig(model_name=model, temperature=temperature, max_tokens=max_tokens,
                              num_retries=max_retries, retry_delay=retry_delay)
        self._server = get_server(server_name=api_type or "openai", config=config)

    def verify(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> VerifyResult:
        try:
            return self._verify(question, prediction, ground_truth, **kwargs)
        except Exception as exc:
            return VerifyResult(0.0, False, f"error: {exc}", {"judge_failed": True})

    def _verify(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> VerifyResult:
        prompt = self._prompt(question, prediction, ground_truth, **kwargs)
        if prompt is not None:
            from ..llm_judge.protocol import Request

            request = Request(messages=[{"role": "user", "content": prompt}], images=kwargs.get("images"),
                              config=self._server.config)
            return self._parse(self._server.evaluate(request).content)
        if self.judge_type == "comparative":
            result = self._server.evaluate_comparative(question=question, response1=prediction,
                                                       response2=ground_truth, **kwargs)
        else:
            result = self._server.evaluate_binary(question=question, answer=ground_truth, prediction=prediction,
                                                  output_format=kwargs.get("output_format", "0/1"))
        if not result.get("success", True):
            return VerifyResult(0.0, False, result.get("raw_response", ""), {"judge_failed": True})
        correct = bool(result.get("result"))
        return VerifyResult(1.0 if correct else 0.0, correct, result.get("raw_response", ""),
                            {"model": result.get("model", "")})

    def _prompt(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> str | None:
        if self.custom_prompt is None:
            return None
        if callable(self.custom_prompt):
            return self.custom_prompt(question, prediction, ground_truth, **kwargs)
        return self.custom_prompt.format(question=question, prediction=prediction, ground_truth=ground_truth,
                                         **kwargs)

    def _parse(self, text: str) -> VerifyResult:
        if self.response_parser is not None:
            return self.response_parser(text)
        if self.response_format == "score":
            score = _score(text, self.score_range)
            return VerifyResult(score, score >= 0.5, text)
        correct = parse_binary_response(text)
        return VerifyResult(1.0 if correct else 0.0, correct, text)
