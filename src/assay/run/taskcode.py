"""Task code is foreign code: run it in a worker thread, with a time limit, and turn whatever it does into
our error.

``doc_to_*``, ``process_docs``, ``process_results``, filters and aggregations come from task folders.
They may block (image decoding, a judge call), never return, raise anything, call ``sys.exit()`` on a
missing file or even ``os._exit()``. None of that may stall the event loop, hang or end the process: each
call runs in a daemon thread (:mod:`assay.run.taskthreads` during the execute stage), past its time limit
it fails and its thread is abandoned, every exception — ``SystemExit`` included — becomes a
:class:`TaskCodeError` naming the task and the hook, and while a run is under way ``os._exit`` called from
task code raises instead of ending the process with the run half written.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, NoReturn, Protocol, TypeVar

from assay.errors import AssayError, TaskError

_T = TypeVar("_T")

#: Seconds one call of task code may take, unless --task_timeout says otherwise (a judge call with its
#: retries fits; a hang does not hold a run for ever).
DEFAULT_TIME_LIMIT = 600.0


class TaskCodeError(TaskError):
    """Task code raised (or exited, or ran past its time limit); the message names the task and the hook."""

    exit_code = 1


class TaskRunner(Protocol):
    """Where task code runs during the execute stage (:class:`assay.run.taskthreads.TaskThreads`)."""

    async def call(self, task: str, what: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any: ...


#: The run's task threads while its workers run; outside them each call gets a thread of its own.
current_runner: ContextVar[TaskRunner | None] = ContextVar("assay_task_runner", default=None)
#: The time limit of one call of task code (None: none), set by the run from its options.
time_limit: ContextVar[float | None] = ContextVar("assay_task_time_limit", default=DEFAULT_TIME_LIMIT)

_inside = threading.local()  # .depth: how many contained() calls this thread is in


class _ExitCalled(BaseException):
    def __init__(self, code: object) -> None:
        super().__init__(code)
        self.code = code


def contained(task: str, what: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``fn(*args, **kwargs)``, with every failure (SystemExit, os._exit too) turned into an AssayError."""
    depth = getattr(_inside, "depth", 0)
    _inside.depth = depth + 1
    try:
        return fn(*args, **kwargs)
    except AssayError:
        raise
    except SystemExit as exc:
        raise TaskCodeError(
            f"task {task}: {what} called sys.exit({exc.code!r})",
            hint="the task's own code gave up (often a missing media file); see the task folder",
        ) from None
    except _ExitCalled as exc:
        raise TaskCodeError(
            f"task {task}: {what} called os._exit({exc.code!r})",
            hint="the task's own code tried to end the process; the run went on without this call",
        ) from None
    except BaseException as exc:
        raise TaskCodeError(
            f"task {task}: {what} failed: {type(exc).__name__}: {exc}",
            hint="the error is in the task's own code; rerun with --verbosity DEBUG for the traceback",
        ) from exc
    finally:
        _inside.depth = depth


def timed_out(task: str, what: str, limit: float) -> TaskCodeError:
    return TaskCodeError(f"task {task}: {what} did not return within {limit:g} s",
                         hint="the task's own code hangs (or is very slow); raise the limit with --task_timeout "
                              "SECONDS (0: none) if it only needs longer")


async def call_task_code(task: str, what: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """:func:`contained` in a worker thread (the context, and so the current run, goes with it), within the
    time limit: the run's task threads when its workers run, else a thread of its own."""
    runner = current_runner.get()
    if runner is not None:
        value: _T = await runner.call(task, what, fn, *args, **kwargs)
        return value
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            (future.set_result if ok else future.set_exception)(value)

    def run() -> None:
        try:
            outcome: tuple[bool, Any] = (True, context.run(contained, task, what, fn, *args, **kwargs))
        except BaseException as exc:
            outcome = (False, exc)
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits for this any more
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name="assay-task-once", daemon=True).start()
    limit = time_limit.get()
    try:
        return await asyncio.wait_for(future, limit)
    except asyncio.TimeoutError:
        assert limit is not None
        raise timed_out(task, what, limit) from None


def limited(task: str, what: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """:func:`contained` in a daemon thread of its own, waited for at most the time limit (from synchronous
    code such as the finish stage, for the few calls it makes: aggregations)."""
    limit = time_limit.get()
    context = contextvars.copy_context()
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, context.run(contained, task, what, fn, *args, **kwargs)))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=run, name="assay-task-once", daemon=True)
    thread.start()
    thread.join(limit)
    if not outcome:
        assert limit is not None
        raise timed_out(task, what, limit)
    ok, value = outcome[0]
    if not ok:
        raise value
    result: _T = value
    return result


@contextlib.contextmanager
def exits_contained() -> Iterator[None]:
    """While a run is under way, ``os._exit`` called by task code (or a thread it started) raises in that
    thread instead of ending the process with the results document still saying ``running``."""
    real, pid = os._exit, os.getpid()

    def guarded(status: int) -> NoReturn:
        # A forked child (multiprocessing in task code) exits as it must; so does our own main thread.
        in_task_code = getattr(_inside, "depth", 0) > 0
        if os.getpid() == pid and (in_task_code or threading.current_thread() is not threading.main_thread()):
            raise _ExitCalled(status)
        real(status)

    os._exit = guarded
    try:
        yield
    finally:
        os._exit = real
