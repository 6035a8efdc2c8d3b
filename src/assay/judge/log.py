"""The current sample's judge log: every judgement made while one sample is scored.

lmms-eval helpers wrap their judge calls in ``try/except Exception`` and return a 0, a tie or an
exact-match fallback, so a failure never propagates as an exception. assay does not rely on it: every
judge call records its outcome in the log of the sample being scored (a :class:`~contextvars.ContextVar`
the runner sets around scoring; ``asyncio.to_thread`` carries it into worker threads and
``run_coroutine_threadsafe`` back onto the loop). After scoring, the runner reads the log, and any
failed judgement the task did not recover from makes the sample a judge failure, whatever the task
code returned.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from assay.judge.outcome import FailureReason, JudgeFailure, JudgeOutcome, Verdict
from assay.types import Usage

if TYPE_CHECKING:
    from assay.judge.parsers import Parser


@dataclass
class Entry:
    """One judgement: its prompt's identity (to see a retry of the same prompt), the outcome, and
    whether the value was parsed by assay (False: the raw text went back to task code to parse)."""

    key: int
    outcome: JudgeOutcome
    parsed: bool = True
    profile: str = "default"


class JudgeAbort(BaseException):
    """Raised into task code whose result a failed judgement voids anyway (an aggregation): a
    ``BaseException``, so helpers' ``except Exception`` retry-and-sleep loops cannot swallow it."""

    def __init__(self, failure: JudgeFailure) -> None:
        super().__init__(f"{failure.reason}: {failure.detail}")
        self.failure = failure


@dataclass
class JudgeLog:
    entries: list[Entry] = field(default_factory=list)
    #: The judge model the task's metadata asks for (``gpt_eval_model_name``), if any.
    requested_model: str | None = None
    #: A failed judgement voids the whole call (an aggregation): stop the task code at the first one.
    abort_on_failure: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, key: int, outcome: JudgeOutcome, *, parsed: bool = True, profile: str = "default") -> None:
        with self._lock:  # task code may judge from several threads at once
            self.entries.append(Entry(key, outcome, parsed, profile))

    def __bool__(self) -> bool:
        return bool(self.entries)

    @property
    def usage(self) -> Usage:
        total = Usage()
        for entry in self.entries:
            total = total + entry.outcome.usage
        return total

    def check_raw(self, parser: Parser) -> None:
        """Apply a task's verdict contract to the answers handed back unparsed (lmms-eval helpers parse
        the judge's text themselves and fall back silently when it does not fit)."""
        for entry in self.entries:
            if entry.parsed or not isinstance(entry.outcome, Verdict):
                continue
            verdict = entry.outcome
            # The parsers and their patterns (~2 ms to import) only once a judge has answered.
            from assay.judge.parsers import ParseError, looks_like_refusal

            try:
                parser(verdict.raw)
            except ParseError as exc:
                reason: FailureReason = "refused" if looks_like_refusal(verdict.raw) else "parse_failed"
                entry.outcome = JudgeFailure(reason, str(exc), verdict.raw, verdict.usage, verdict.model,
                                             verdict.attempts)
            entry.parsed = True

    def request_failed(self, key: int) -> bool:
        """Whether this prompt's request already failed for good in this sample."""
        return any(e.key == key and isinstance(e.outcome, JudgeFailure) and e.outcome.reason == "request_failed"
                   for e in self.entries)

    def reject_raw(self, raw: str, detail: str) -> None:
        """Task code could not read this judge answer (lmms-eval's ResponseParser fell back): the latest
        verdict with exactly this text becomes a parse failure."""
        with self._lock:
            for entry in reversed(self.entries):
                verdict = entry.outcome
                if isinstance(verdict, Verdict) and verdict.raw.strip() == raw.strip():
                    from assay.judge.parsers import looks_like_refusal

                    reason: FailureReason = "refused" if looks_like_refusal(raw) else "parse_failed"
                    entry.outcome = JudgeFailure(reason, detail, verdict.raw, verdict.usage, verdict.model,
                                                 verdict.attempts)
                    entry.parsed = True
                    return

    def failure(self) -> JudgeFailure | None:
        """The first failed judgement not followed by a verdict for the same prompt (a task's own retry
        that succeeded recovers it), or None."""
        for i, entry in enumerate(self.entries):
            if isinstance(entry.outcome, JudgeFailure):
                later = self.entries[i + 1:]
                if not any(e.key == entry.key and isinstance(e.outcome, Verdict) for e in later):
                    return entry.outcome
        return None

    def unparsed_verdicts(self) -> bool:
        """Whether task code got raw judge text to parse itself (its exception then means it could not)."""
        return any(not e.parsed and isinstance(e.outcome, Verdict) for e in self.entries)

    def records(self, redact: Callable[[str], str] | None = None) -> list[dict[str, Any]]:
        """Each judgement as a sample-record entry; its texts (the judge's answer, the failure) redacted."""
        out = []
        for entry in self.entries:
            record = entry.outcome.as_record()
            if redact is not None:
                for key in ("raw", "detail"):
                    if isinstance(record.get(key), str):
                        record[key] = redact(record[key])
            if entry.profile != "default":
                record["judge"] = entry.profile
            out.append(record)
        return out


current_judge_log: ContextVar[JudgeLog | None] = ContextVar("assay_judge_log", default=None)


@contextmanager
def judging_sample(requested_model: str | None = None, *, abort_on_failure: bool = False) -> Iterator[JudgeLog]:
    """A fresh log for one sample's scoring (or one aggregation: ``abort_on_failure``), current in this
    context (and the threads it starts)."""
    log = JudgeLog(requested_model=requested_model, abort_on_failure=abort_on_failure)
    token = current_judge_log.set(log)
    try:
        yield log
    finally:
        current_judge_log.reset(token)


def record(key: int, outcome: JudgeOutcome, *, parsed: bool = True, profile: str = "default") -> None:
    """Add ``outcome`` to the current sample's log (a judge call outside sample scoring is not logged)."""
    log = current_judge_log.get()
    if log is not None:
        log.add(key, outcome, parsed=parsed, profile=profile)


def with_detail(failure: JudgeFailure, detail: str) -> JudgeFailure:
    return replace(failure, detail=detail)
