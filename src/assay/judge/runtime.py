"""Task code's way to the run's judge: ``await judge(...)`` on the loop, ``judge_sync(...)`` from a thread.

The run puts its :class:`~assay.judge.client.Judge` in a context variable before its workers start;
scoring code finds it there (worker threads inherit the context). Outside a run, or when a synchronous
caller cannot reach the run's loop, a call ends as a ``request_failed`` judge failure naming the cause —
never as an exception the task code could swallow into a 0.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from assay.judge.log import record
from assay.judge.outcome import JudgeFailure, JudgeOutcome

if TYPE_CHECKING:
    from assay.judge.client import Judge
    from assay.judge.messages import Prompt
    from assay.judge.parsers import Parser

current_judge: ContextVar[Judge | None] = ContextVar("assay_judge", default=None)
NO_JUDGE = "no judge is available: judged tasks are scored inside `assay run` / `assay.evaluate()`"


def active_judge() -> Judge | None:
    return current_judge.get()


async def judge(prompt: Prompt, parser: Parser | None = None, **kwargs: Any) -> JudgeOutcome:
    """One judgement by the run's judge (see :meth:`assay.judge.client.Judge.judge` for the arguments)."""
    found = current_judge.get()
    if found is None:
        return _unreachable(NO_JUDGE, parser)
    return await found.judge(prompt, parser, **kwargs)


def judge_sync(prompt: Prompt, parser: Parser | None = None, **kwargs: Any) -> JudgeOutcome:
    """:func:`judge` for synchronous task code in a worker thread: the call runs on the run's event loop
    (through :func:`assay.model.bridge.run_coroutine`) and this thread waits for its outcome."""
    found = current_judge.get()
    if found is None:
        return _unreachable(NO_JUDGE, parser)
    from assay.model.bridge import BridgeError, run_coroutine

    try:
        outcome: JudgeOutcome = run_coroutine(found.judge(prompt, parser, **kwargs))
        return outcome
    except BridgeError as exc:
        return _unreachable(f"the judge cannot be reached from here: {exc}", parser)


def _unreachable(detail: str, parser: Parser | None) -> JudgeFailure:
    failure = JudgeFailure("request_failed", detail)
    record(0, failure, parsed=parser is not None)
    return failure
