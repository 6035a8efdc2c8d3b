"""From synchronous task code in a worker thread back to the run's event loop.

lmms-eval helpers call their judge synchronously from ``process_results``. assay runs that code in a
worker thread; :func:`run_coroutine` hands a coroutine (a judge request through the judge ``Model``) to
the run's loop and waits for it, so the call gets the loop's retries, cache, concurrency limit and
accounting instead of a private client of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from assay.model.context import RunContext, current_run

_T = TypeVar("_T")


class BridgeError(RuntimeError):
    """The coroutine cannot be run: no run is active, or the caller is on the loop's own thread."""


def active_run() -> RunContext:
    """The run this thread belongs to (BridgeError outside a run)."""
    context = current_run.get()
    if context is None:
        raise BridgeError("no assay run is active in this thread (task code called outside `assay run`?)")
    return context


def run_coroutine(coro: Coroutine[Any, Any, _T], timeout: float | None = None) -> _T:
    """Run ``coro`` on the current run's event loop and return its result (or raise its exception)."""
    try:
        context = active_run()
        loop = context.loop
        if loop.is_closed() or not loop.is_running():
            raise BridgeError("the run's event loop has stopped (the run is ending)")
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:  # waiting here would block the very loop that must run the coroutine
            raise BridgeError("run_coroutine was called on the event loop's own thread; it would deadlock")
    except BridgeError:
        coro.close()  # never awaited: close it so Python does not warn about it
        raise
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)
