"""Scoring one sample with its judge log around it, and what the run does with the outcome.

Sync ``process_results`` (lmms-eval's) runs in a worker thread; an ``async def process_results`` (assay's
judged tasks) is awaited on the event loop, so thousands of judge calls can be in flight without a
thread each. Either way the sample's judge log is current while it runs, and afterwards
:func:`~assay.judge.accounting.settle` decides whether the sample is a judge failure.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError, TaskError
from assay.judge.accounting import NOT_JUDGED, SampleJudgement, settle
from assay.judge.log import JudgeLog, current_judge_log
from assay.tasks.work import UNSET

if TYPE_CHECKING:
    from assay.judge.parsers import Parser
    from assay.tasks import Task

RunSync = Callable[..., Awaitable[Any]]  # assay.run.taskcode.call_task_code


@dataclass(frozen=True)
class ScoredSample:
    """``scores`` to count (None when the sample is excluded), the scoring error (a message, already
    redacted) if task code raised, and the judge status."""

    scores: dict[str, Any] | None
    error: str | None
    judgement: SampleJudgement = NOT_JUDGED
    #: What task code returned for a sample excluded as a judge failure (shown in its record, not counted).
    discarded: dict[str, Any] | None = None
    #: Each filter pipeline's output (lmms-eval's filtered_resps), by pipeline name.
    filtered: dict[str, Any] | None = None

    def record_fields(self) -> dict[str, Any]:
        """Fields for the sample record (``judge`` only for judged samples)."""
        if not self.judgement.judged:
            return {}
        return {"judge": self.judgement.as_record(self.discarded)}


def is_async_scorer(task: Task) -> bool:
    return inspect.iscoroutinefunction(task.config.process_results)


#: Filters whose work is bounded by the answer's length: no pattern or function of the task's own in them.
_PLAIN_FILTERS = ("TakeFirstFilter", "TakeKFilter", "MajorityVoteFilter", "WhitespaceFilter", "LowercaseFilter",
                  "UppercaseFilter", "StripThinkingFilter")

#: Metrics that compare the answer with the target as strings (a plugin replacing one is not assay's: its
#: module says so).
_PLAIN_METRICS = frozenset({"exact_match", "normalized_exact_match", "mc_accuracy", "relaxed_accuracy"})
_OWN_METRIC_MODULES = ("assay.tasks.scoring.", "assay.metrics.")


def scores_on_the_loop(task: Task) -> bool:
    """Whether scoring this task's docs runs only assay's own pure code, bounded by the answer's length: no
    ``process_results``, a target read from a field (or a constant), no choices to render, plain filters
    (no regex or map of the task's), string-comparing metrics of assay's own with no pattern options.
    Such scoring runs inline on the event loop (~6 µs a sample saved against a trip to a task thread and back,
    bench/throughput.py); anything else stays task code, in the task threads with their time limit."""
    config = task.config
    if config.process_results is not None or config.doc_to_choice is not None or task.output_type != "generate_until":
        return False
    if not config.target_from_a_field:
        return False
    filters = [f for pipeline in task.pipelines for f in pipeline.filters]
    if any(type(f).__module__ != "assay.tasks.scoring.filters" or type(f).__name__ not in _PLAIN_FILTERS
           for f in filters):
        return False
    return all(m.name in _PLAIN_METRICS and getattr(m.fn, "__module__", "").startswith(_OWN_METRIC_MODULES)
               and not m.options.get("regexes_to_ignore") for m in task.metrics)


async def score_sample(task: Task, doc: dict[str, Any], responses: Any, *, run_sync: RunSync,
                       contract: Parser | None, redact: Callable[[str], str]) -> ScoredSample:
    """Score one doc's answers (a text, the ``repeats`` texts, or per-choice log-likelihoods) with the task's
    code (in a task thread; awaited if it is a coroutine), judge log current; a failed judgement excludes the
    sample whatever was returned. (A task whose scoring is assay's own pure code is scored by :func:`score_own`.)"""
    error: AssayError | None = None
    scores: dict[str, Any] | None = None
    filtered: dict[str, Any] | None = None
    # The sample's judge log, current while it is scored (judging_sample, without a generator's cost a sample).
    log = JudgeLog(requested_model=requested_judge_model(task.config.metadata))
    token = current_judge_log.set(log)
    try:
        if is_async_scorer(task):
            text = responses if isinstance(responses, str) else responses[0]
            scores = await _score_async(task, doc, text)
        else:
            scored = await run_sync(task.name, "scoring", task.score, doc, responses)
            scores, filtered = scored.scores, scored.filtered
    except AssayError as exc:
        error = exc
    finally:
        current_judge_log.reset(token)
    message = redact(error.message) if error is not None else None
    judgement = settle(log, contract=contract, scoring_error=message, redact=redact)
    if judgement.failure is not None:
        # The judge failed (or its answer was unusable): excluded as a judge failure, not a scoring error.
        return ScoredSample(None, None, judgement, scores, filtered)
    return ScoredSample(scores if error is None else None, message, judgement, filtered=filtered)


def score_own(task: Task, doc: dict[str, Any], responses: Any, *, redact: Callable[[str], str],
              target: Any = UNSET) -> ScoredSample:
    """:func:`score_sample` of a task whose scoring is assay's own pure code (:func:`scores_on_the_loop`), on
    the calling thread: it asks no judge, so there is no judge log to keep (settle() of an empty one)."""
    try:
        own = task.score(doc, responses, target)
    except AssayError as exc:
        return ScoredSample(None, redact(exc.message))
    return ScoredSample(own.scores, None, filtered=own.filtered)


async def _score_async(task: Task, doc: dict[str, Any], text: str) -> dict[str, Any]:
    fn = task.config.process_results
    assert fn is not None
    try:
        result = await fn(doc, [text])
    except AssayError:
        raise
    except Exception as exc:
        raise TaskError(f"task {task.name}: process_results failed: {type(exc).__name__}: {exc}",
                        hint=f"the error is in the task's own code (see {task.config.folder})") from exc
    if not isinstance(result, dict):
        raise TaskError(f"task {task.name}: process_results returned {type(result).__name__}, not a dict")
    return dict(result)


def requested_judge_model(metadata: Any) -> str | None:
    """The judge model a task's metadata names (lmms-eval's ``gpt_eval_model_name``, or ``judge_model``)."""
    if not isinstance(metadata, Mapping):
        return None
    for key in ("gpt_eval_model_name", "judge_model"):
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
