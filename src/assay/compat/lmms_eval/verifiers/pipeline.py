"""``lmms_eval.verifiers.pipeline``: extractors, then one verifier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import Extractor, Verifier, VerifyResult


class VerificationPipeline:
    def __init__(self, extractors: Sequence[Extractor] | None = None, verifier: Verifier | None = None) -> None:
        if verifier is None:
            raise ValueError("VerificationPipeline requires a verifier")
        self.extractors = list(extractors or [])
        self.verifier = verifier

    def __call__(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> VerifyResult:
        cleaned = prediction
        for extractor in self.extractors:
            cleaned = extractor(cleaned, **kwargs)
        result = self.verifier.verify(question, cleaned, ground_truth, **kwargs)
        result.metadata["raw_prediction"] = prediction
        result.metadata["extracted_prediction"] = cleaned
        return result

    def verify(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> VerifyResult:
        return self(question, prediction, ground_truth, **kwargs)
