"""``lmms_eval.verifiers``: extractors and verifiers composed into a pipeline (lmms-eval's API).

Rule-based verifiers need no model; ``openai`` (an LLM verdict) goes through ``lmms_eval.llm_judge``.
"""

from __future__ import annotations

from typing import Any

from .base import Extractor, Verifier, VerifyResult, parse_binary_response
from .composite import CompositeVerifier
from .extractors import MCQExtractor, NumberExtractor, RegexExtractor, StripExtractor, StripReasoningExtractor
from .pipeline import VerificationPipeline
from .rule import ContainsVerifier, ExactMatchVerifier, MCQMatchVerifier, NumericToleranceVerifier

EXTRACTOR_REGISTRY: dict[str, type[Extractor]] = {
    "strip_reasoning": StripReasoningExtractor, "regex": RegexExtractor, "mcq": MCQExtractor,
    "number": NumberExtractor, "strip": StripExtractor,
}
VERIFIER_REGISTRY: dict[str, type[Verifier]] = {
    "exact_match": ExactMatchVerifier, "contains": ContainsVerifier, "mcq_match": MCQMatchVerifier,
    "numeric": NumericToleranceVerifier, "composite": CompositeVerifier,
}


def _verifier_class(name: str) -> type[Verifier]:
    if name == "openai":
        from .openai import OpenAIVerifier

        return OpenAIVerifier
    if name not in VERIFIER_REGISTRY:
        raise KeyError(f"unknown verifier type {name!r}; known: {sorted([*VERIFIER_REGISTRY, 'openai'])}")
    return VERIFIER_REGISTRY[name]


def build_verification_pipeline(config: dict[str, Any]) -> VerificationPipeline:
    """``{"extractors": [{"type": …}, …], "verifier": {"type": …, …}}`` as a pipeline."""
    extractors = []
    for item in config.get("extractors", []):
        options = dict(item)
        extractors.append(EXTRACTOR_REGISTRY[options.pop("type")](**options))
    options = dict(config.get("verifier", {}))
    kind = options.pop("type")
    if kind == "composite":
        subs = []
        for sub in options.pop("verifiers", []):
            sub_options = dict(sub)
            subs.append(_verifier_class(sub_options.pop("type"))(**sub_options))
        return VerificationPipeline(extractors, CompositeVerifier(subs))
    return VerificationPipeline(extractors, _verifier_class(kind)(**options))


__all__ = ["EXTRACTOR_REGISTRY", "VERIFIER_REGISTRY", "CompositeVerifier", "ContainsVerifier", "ExactMatchVerifier",
           "Extractor", "MCQExtractor", "MCQMatchVerifier", "NumberExtractor", "NumericToleranceVerifier",
           "RegexExtractor", "StripExtractor", "StripReasoningExtractor", "VerificationPipeline", "Verifier",
           "VerifyResult", "build_verification_pipeline", "parse_binary_response"]
