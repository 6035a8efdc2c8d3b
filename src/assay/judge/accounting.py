"""From a sample's judge log to its judge status, and from a task's samples to its judge counts.

A sample is a *judge failure* when any of its judgements failed and was not recovered, whatever its
task code returned; it is then left out of every metric's denominator, counted by reason, and shown in
its sample record with the task's discarded scores next to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assay.judge.log import JudgeLog
from assay.judge.outcome import FAILURE_REASONS, JudgeFailure, Verdict
from assay.types import Usage

if TYPE_CHECKING:
    from assay.judge.parsers import Parser


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
    """One task's judge counts: judged samples, and the judgements its aggregations made (apart, since
    they belong to no sample: a sample count must not take them)."""

    judged: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    usage: Usage = field(default_factory=Usage)
    aggregation_judged: int = 0
    aggregation_failed: Counter[str] = field(default_factory=Counter)

    def add(self, judgement: SampleJudgement) -> None:
        if not judgement.judged:
            return
        self.usage = self.usage + judgement.usage
        if judgement.failure is not None:
            self.failed[judgement.failure.reason] += 1
        else:
            self.judged += 1

    def add_judgements(self, log: JudgeLog) -> None:
        """Count each judgement of an aggregation's log."""
        for entry in log.entries:
            self.usage = self.usage + entry.outcome.usage
            if isinstance(entry.outcome, Verdict):
                self.aggregation_judged += 1
            else:
                self.aggregation_failed[entry.outcome.reason] += 1

    @property
    def n_failed(self) -> int:
        """Samples excluded as judge failures."""
        return sum(self.failed.values())

    @property
    def any(self) -> bool:
        return bool(self.judged or self.failed or self.aggregation_judged or self.aggregation_failed)

    @property
    def failure_rate(self) -> float:
        failed = self.n_failed + sum(self.aggregation_failed.values())
        attempted = self.judged + self.aggregation_judged + failed
        return failed / attempted if attempted else 0.0

    def summary(self) -> dict[str, Any]:
        failed = self.failed + self.aggregation_failed
        out: dict[str, Any] = {
            "n_judged": self.judged + self.aggregation_judged,
            "n_judge_failed": sum(failed.values()),
            "judge_failed": {r: failed[r] for r in FAILURE_REASONS if failed.get(r)},
            "judge_failure_rate": round(self.failure_rate, 6),
            "judge_usage": {"input_tokens": self.usage.input_tokens, "output_tokens": self.usage.output_tokens},
        }
        if self.aggregation_judged or self.aggregation_failed:
            out["judged_in_aggregation"] = {
                "n_judged": self.aggregation_judged,
                "judge_failed": {r: self.aggregation_failed[r] for r in FAILURE_REASONS
                                 if self.aggregation_failed.get(r)}}
        return out


def no_verdict(task_results: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Tasks that asked their judge and never got a usable verdict: no metric stands on them, at any
    --max_judge_failure_rate (as no sample succeeding fails a run at any --max_error_rate)."""
    return {name: result for name, result in task_results.items()
            if result.get("n_judge_failed") and not result.get("n_judged")}


def over_threshold(task_results: Mapping[str, Mapping[str, Any]], max_rate: float) -> dict[str, float]:
    """Tasks whose judge failure rate exceeds ``max_rate`` (task -> rate)."""
    return {name: float(result["judge_failure_rate"]) for name, result in task_results.items()
            if float(result.get("judge_failure_rate") or 0.0) > max_rate}
