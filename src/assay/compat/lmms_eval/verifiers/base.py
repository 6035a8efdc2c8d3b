"""``lmms_eval.verifiers.base``: verdicts, and the verifier/extractor interfaces task helpers build on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


@dataclass
class VerifyResult:
    """One verification: a 0–1 score, whether it counts as correct, the judge's raw text, extra facts."""

    score: float
    is_correct: bool
    raw_output: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class Verifier(ABC):
    @abstractmethod
    def verify(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> VerifyResult: ...

    def __call__(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> VerifyResult:
        return self.verify(question, prediction, ground_truth, **kwargs)


class Extractor(ABC):
    @abstractmethod
    def extract(self, text: str, **kwargs: Any) -> str: ...

    def __call__(self, text: str, **kwargs: Any) -> str:
        return self.extract(text, **kwargs)


def parse_binary_response(text: str) -> bool:
    """A judge's answer as correct/incorrect: CORRECT/INCORRECT, else a yes/true/1 signal."""
    upper = text.strip().upper()
    if "INCORRECT" in upper or "NOT_ATTEMPTED" in upper:
        return False
    if "CORRECT" in upper:
        return True
    lower = text.strip().lower()
    return any(signal in lower for signal in ("correct", "yes", "true", "1", "[1]"))
