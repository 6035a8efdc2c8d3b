"""``lmms_eval.verifiers.rule``: verifiers that need no model."""

from __future__ import annotations

import math
import re
from typing import Any

from .base import Verifier, VerifyResult

__all__ = ["ContainsVerifier", "ExactMatchVerifier", "MCQMatchVerifier", "NumericToleranceVerifier"]


def _result(correct: bool, raw: str, confident: bool) -> VerifyResult:
    return VerifyResult(1.0 if correct else 0.0, correct, raw, {"confident": confident})


class ExactMatchVerifier(Verifier):
    def __init__(self, ignore_case: bool = True, strip: bool = True) -> None:
        self.ignore_case, self.strip = ignore_case, strip

    def verify(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> VerifyResult:
        pred, gt = (prediction.strip(), ground_truth.strip()) if self.strip else (prediction, ground_truth)
        if self.ignore_case:
            pred, gt = pred.lower(), gt.lower()
        return _result(pred == gt, f"exact_match: {pred!r} vs {gt!r}", pred == gt)


class ContainsVerifier(Verifier):
    def __init__(self, ignore_case: bool = True) -> None:
        self.ignore_case = ignore_case

    def verify(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> VerifyResult:
        pred, gt = (prediction.lower(), ground_truth.lower()) if self.ignore_case else (prediction, ground_truth)
        return _result(gt in pred, f"contains: {gt!r} in prediction={gt in pred}", gt in pred)


class MCQMatchVerifier(Verifier):
    def verify(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> VerifyResult:
        pred = prediction.strip().upper().strip("(). ")
        gt = ground_truth.strip().upper().strip("(). ")
        return _result(pred == gt, f"mcq_match: {pred!r} vs {gt!r}", bool(re.fullmatch(r"[A-Z]", pred)))


class NumericToleranceVerifier(Verifier):
    def __init__(self, rel_tol: float = 1e-3, abs_tol: float = 1e-6) -> None:
        self.rel_tol, self.abs_tol = rel_tol, abs_tol

    @staticmethod
    def _number(text: str) -> float | None:
        text = text.strip().replace(",", "").replace("%", "")
        try:
            return float(text)
        except ValueError:
            found = re.findall(r"-?\d+(?:\.\d+)?", text)
            return float(found[-1]) if found else None

    def verify(self, question: str, prediction: str, ground_truth: str, **kwargs: Any) -> VerifyResult:
        pred, gt = self._number(prediction), self._number(ground_truth)
        if pred is None or gt is None:
            return _result(False, f"numeric_parse_fail: pred={prediction!r} gt={ground_truth!r}", False)
        correct = math.isclose(pred, gt, rel_tol=self.rel_tol, abs_tol=self.abs_tol)
        return _result(correct, f"numeric: {pred} vs {gt} (rel_tol={self.rel_tol})", True)
