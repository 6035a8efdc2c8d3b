"""``lmms_eval.verifiers.composite``: the first confident verdict of a chain of verifiers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import Verifier, VerifyResult


class CompositeVerifier(Verifier):
    def __init__(self, verifiers: Sequence[Verifier]) -> None:
        if not verifiers:
            raise ValueError("CompositeVerifier needs at least one verifier")
        self.verifiers = list(verifiers)

    def verify(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> VerifyResult:
        result = VerifyResult(0.0, False)
        for verifier in self.verifiers:
            result = verifier.verify(question, prediction, ground_truth, **kwargs)
            if result.metadata.get("confident", True):
                return result
        return result
