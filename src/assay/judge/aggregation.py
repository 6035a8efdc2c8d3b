"""Judge calls made from a task's aggregation (HallusionBench judges every answer there), accounted.

An aggregation runs with a judge log of its own. Each judgement in it is counted in the task's judge
counts; a failed one voids the metric (one number built from all judgements cannot leave one out), so the
first failure stops the aggregation at once (:class:`~assay.judge.log.JudgeAbort`, which helpers' retry
loops cannot catch) and the metric carries the judge's failure instead of a value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from assay.errors import AssayError, TaskError
from assay.judge.accounting import JudgeTally
from assay.judge.log import JudgeLog, judging_sample

_T = TypeVar("_T")


class AggregationJudgeError(TaskError):
    """The judge failed while an aggregation was judging: the metric has no value."""

    exit_code = 4


def judged_aggregation(call: Callable[[], _T], tally: JudgeTally, *, requested_model: str | None = None,
                       redact: Callable[[str], str] = str) -> _T:
    """``call()`` (an aggregation, already contained) with its judgements logged and counted in ``tally``;
    raises :class:`AggregationJudgeError` when one of them failed for good."""
    with judging_sample(requested_model, abort_on_failure=True) as log:
        try:
            value = call()
        except AssayError:
            if not _failed(log):
                raise
        tally.add_judgements(log)
    failure = log.failure()
    if failure is not None:
        raise AggregationJudgeError(f"the judge failed while aggregating ({failure.reason}): "
                                    f"{redact(failure.detail)}")
    return value


def _failed(log: JudgeLog) -> bool:
    return log.failure() is not None
