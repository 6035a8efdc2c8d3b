"""Stopping a run on purpose: a signal handler (or any caller) asks, the execute stage obeys.

Asking is idempotent and never raises: a second signal during shutdown changes nothing, so it cannot
interrupt the results write. The execute stage stops taking documents, cancels the requests in flight
and hands over to the finish stage, which writes everything that was finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable


class RunControl:
    def __init__(self) -> None:
        self.reason: str | None = None
        self.signum: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        # Re-entrant: a signal handler runs on the main thread, possibly while that thread holds the lock.
        self._lock = threading.RLock()
        self._on_force: Callable[[], None] | None = None
        self._on_start: Callable[[], None] | None = None

    def when_forced(self, write: Callable[[], None] | None) -> None:
        """What :meth:`force` does: the run registers how to write its results document in a hurry."""
        self._on_force = write

    def when_started(self, callback: Callable[[], None] | None) -> None:
        """What :meth:`started` does: the caller's own step between start-up and the first request."""
        self._on_start = callback

    def started(self) -> None:
        """Called by the run once it is prepared, before its first request."""
        if self._on_start is not None:
            self._on_start()

    def force(self) -> None:
        """The process is about to be ended (a second signal, the graceful ending too slow): write what can
        be written now (from the signal watchdog's thread)."""
        write = self._on_force
        if write is not None:
            write()

    @property
    def stop_requested(self) -> bool:
        return self.reason is not None

    def attach(self, loop: asyncio.AbstractEventLoop) -> asyncio.Event:
        """Called by the execute stage on its loop: the event it waits on besides its workers."""
        with self._lock:
            self._loop, self._event = loop, asyncio.Event()
            if self.reason is not None:  # asked before the run started executing
                self._event.set()
            return self._event

    def request_stop(self, reason: str, signum: int | None = None) -> None:
        """Ask the run to stop (any thread; async-signal-safe enough for a Python signal handler)."""
        with self._lock:
            if self.reason is not None:
                return  # the first reason stands; a second signal must not disturb the shutdown
            self.reason, self.signum = reason, signum
            loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nothing is left to stop
                loop.call_soon_threadsafe(event.set)
