"""From a sample's judge log to its judge status, and from a task's samples to its judge counts.

A sample is a *judge failure* when any of its judgements failed and was not recovered, whatever its
task code returned; it is then left out of every metric's denominator, counted by reason, and shown in
its sample record with the task's discarded scores next to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.judge.log import JudgeLog
from assay.judge.outcome import FAILURE_REASONS, JudgeFailure
from assay.judge.parsers import Parser
from assay.types import Usage


@dataclass(frozen=True)
class SampleJudgement:
    """A scored sample's judging: ``judged`` when the judge was asked at all; ``failure`` when the sample
    is excluded because of it."""

    judged: bool
    failure: JudgeFailure | None = None
    records: tuple[dict[str, Any], ...] = ()
    usage: Usage = field(default_factory=Usage)

    def as_record(self, discarded: Mapping[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"status": "failed" if self.failure else "ok", "judgements": list(self.records)}
        if self.failure is not None:
            out["reason"] = self.failure.reason
            out["detail"] = self.failure.detail
            if discarded:
                out["discarded_metrics"] = dict(discarded)
        return out


NOT_JUDGED = SampleJudgement(False)


def settle(log: JudgeLog, *, contract: Parser | None = None, scoring_error: str | None = None,
           redact: Callable[[str], str] | None = None) -> SampleJudgement:
    """The sample's judge status from its log (``contract`` checks answers task code parsed itself;
    ``scoring_error`` is what task code raised after the judge answered, if anything)."""
    if not log:
        return NOT_JUDGED
    if contract is not None:
        log.check_raw(contract)
    failure = log.failure()
    if failure is None and scoring_error is not None and log.unparsed_verdicts():
        # The judge answered and the task's own parsing raised: the answer was unusable.
        failure = JudgeFailure("parse_failed", f"the task could not use the judge's answer: {scoring_error}")
    if failure is not None and redact is not None:
        failure = JudgeFailure(failure.reason, redact(failure.detail), failure.raw, failure.usage, failure.model,
                               failure.attempts)
    return SampleJudgement(True, failure, tuple(log.records(redact)), log.usage)


@dataclass
class JudgeTally:
    """One task's judge counts."""

    judged: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    usage: Usage = field(default_factory=Usage)

    def add(self, judgement: SampleJudgement) -> None:
        if not judgement.judged:
            return
        self.usage = self.usage + judgement.usage
        if judgement.failure is not None:
            self.failed[judgement.failure.reason] += 1
        else:
            self.judged += 1

    @property
    def n_failed(self) -> int:
        return sum(self.failed.values())

    @property
    def failure_rate(self) -> float:
        attempted = self.judged + self.n_failed
        return self.n_failed / attempted if attempted else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "n_judged": self.judged,
            "n_judge_failed": self.n_failed,
            "judge_failed": {r: self.failed[r] for r in FAILURE_REASONS if self.failed.get(r)},
            "judge_failure_rate": round(self.failure_rate, 6),
            "judge_usage": {"input_tokens": self.usage.input_tokens, "output_tokens": self.usage.output_tokens},
        }


def over_threshold(task_results: Mapping[str, Mapping[str, Any]], max_rate: float) -> dict[str, float]:
    """Tasks whose judge failure rate exceeds ``max_rate`` (task -> rate)."""
    return {name: float(result["judge_failure_rate"]) for name, result in task_results.items()
            if float(result.get("judge_failure_rate") or 0.0) > max_rate}
