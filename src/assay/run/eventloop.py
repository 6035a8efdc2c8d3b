"""The event loop a run goes on: uvloop's when it is installed, else asyncio's own.

With uvloop (libuv, in Cython) the loop's own work per request — scheduling callbacks, the sockets' reads
and writes — costs less: 10,000 questions at 0 ms were dispatched ~5 % faster with ~3 % less CPU on this
machine (8 interleaved runs, bench/throughput.py's command line). Nothing in assay depends on which loop it
is: tasks, cancellation, time limits, thread hand-offs and signal handlers are asyncio's API on either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when the package is installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def run(main: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run(main)`` on :func:`new_event_loop`'s loop."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)
