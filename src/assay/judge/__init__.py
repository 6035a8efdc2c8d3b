"""LLM judges that never fail silently.

A judge is a second :class:`~assay.model.Model` around any registry provider. A judgement is a
:class:`Verdict` or a :class:`JudgeFailure` (``request_failed``, ``parse_failed``, ``refused``); a sample
with a failed judgement is excluded from its metrics and counted, never scored as a 0.

Task code calls ``await judge(prompt, parser)`` (async scoring) or ``judge_sync(prompt, parser)`` (from a
worker thread); parsers: :func:`yes_no`, :func:`score`, :func:`pairwise`, :func:`json_object`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assay.env.lazy import lazy_getattr

__all__ = [
    "FAILURE_REASONS",
    "Judge",
    "JudgeConfig",
    "JudgeFailure",
    "JudgeOutcome",
    "Pairwise",
    "ParseError",
    "Verdict",
    "json_object",
    "judge",
    "judge_sync",
    "pairwise",
    "score",
    "yes_no",
]

_EXPORTS = {
    "FAILURE_REASONS": "assay.judge.outcome",
    "JudgeFailure": "assay.judge.outcome",
    "JudgeOutcome": "assay.judge.outcome",
    "Verdict": "assay.judge.outcome",
    "Judge": "assay.judge.client",
    "JudgeConfig": "assay.judge.config",
    "Pairwise": "assay.judge.parsers",
    "ParseError": "assay.judge.parsers",
    "json_object": "assay.judge.parsers",
    "pairwise": "assay.judge.parsers",
    "score": "assay.judge.parsers",
    "yes_no": "assay.judge.parsers",
    "judge": "assay.judge.runtime",
    "judge_sync": "assay.judge.runtime",
}

if TYPE_CHECKING:
    from assay.judge.client import Judge
    from assay.judge.config import JudgeConfig
    from assay.judge.outcome import FAILURE_REASONS, JudgeFailure, JudgeOutcome, Verdict
    from assay.judge.parsers import Pairwise, ParseError, json_object, pairwise, score, yes_no
    from assay.judge.runtime import judge, judge_sync

__getattr__ = lazy_getattr(__name__, _EXPORTS)
