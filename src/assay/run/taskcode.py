"""Task code is foreign code: run it in a worker thread and turn whatever it raises into our error.

``doc_to_*``, ``process_docs``, ``process_results``, filters and aggregations come from task folders.
They may block (image decoding, a judge call), raise anything, or call ``sys.exit()`` on a missing file.
None of that may stall the event loop or end the process: each call runs in a thread, and every
exception — ``SystemExit`` included — becomes a :class:`TaskCodeError` naming the task and the hook.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from assay.errors import AssayError, TaskError

_T = TypeVar("_T")


class TaskCodeError(TaskError):
    """Task code raised (or exited); the message names the task and the hook."""

    exit_code = 1


def contained(task: str, what: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``fn(*args, **kwargs)``, with every failure (SystemExit too) turned into an AssayError."""
    try:
        return fn(*args, **kwargs)
    except AssayError:
        raise
    except SystemExit as exc:
        raise TaskCodeError(
            f"task {task}: {what} called sys.exit({exc.code!r})",
            hint="the task's own code gave up (often a missing media file); see the task folder",
        ) from None
    except BaseException as exc:
        raise TaskCodeError(
            f"task {task}: {what} failed: {type(exc).__name__}: {exc}",
            hint="the error is in the task's own code; rerun with --verbosity DEBUG for the traceback",
        ) from exc


async def call_task_code(task: str, what: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """:func:`contained` in a worker thread (the context, and so the current run, goes with it): the run's
    own executor when it has one, else asyncio's default."""
    from assay.model.context import current_run

    run = current_run.get()
    if run is None or run.executor is None:
        return await asyncio.to_thread(contained, task, what, fn, *args, **kwargs)
    call = functools.partial(contextvars.copy_context().run, contained, task, what, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(run.executor, call)
