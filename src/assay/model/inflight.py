"""What bounds a model's attempts in flight: a number of slots, and time limits kept by one timer.

``asyncio.timeout`` arms a timer of its own for every attempt and cancels it when the answer comes: ~3.6 µs
an attempt on this machine (issue #18, where the whole of assay's own work is a few tens of µs a request).
A model's attempts all have the same limit, so their deadlines come in the order they started: one timer,
set for the oldest deadline still open, is enough. When it fires, every attempt past its deadline is
cancelled, exactly as ``asyncio.timeout`` does it (the task is cancelled, and the attempt turns the
``CancelledError`` into a timeout only if nobody else cancelled the task meanwhile), and the timer is set
again for the next deadline. Starting and ending an attempt is a dict insertion and a deletion.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Deadline:
    """One attempt's deadline (see :meth:`Deadlines.start`)."""

    __slots__ = ("at", "cancelling", "expired", "task")

    def __init__(self, task: asyncio.Task[object], at: float) -> None:
        self.task = task
        self.at = at
        self.cancelling = task.cancelling()  # cancellations already asked for before the attempt began
        self.expired = False


class Deadlines:
    """The deadlines of every attempt in flight with one time limit, ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._open: dict[Deadline, None] = {}  # in the order they started: that is, by deadline
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> Deadline:
        """The running task's attempt begins: it is cancelled if it is still open ``seconds`` from now."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        assert task is not None, "an attempt runs in a task"
        deadline = Deadline(task, loop.time() + self.seconds)
        self._open[deadline] = None
        if self._timer is None or self._loop is not loop:
            self._loop = loop
            self._timer = loop.call_at(deadline.at, self._expire)
        return deadline

    def end(self, deadline: Deadline) -> bool:
        """The attempt is over. True when its deadline cancelled it, and a ``CancelledError`` it ended with
        means the timeout (no other cancellation is pending): the caller raises its timeout error then."""
        del self._open[deadline]
        if not deadline.expired:
            return False
        return deadline.task.uncancel() <= deadline.cancelling

    def _expire(self) -> None:
        """Cancel every attempt past its deadline; set the timer for the next one still open."""
        self._timer = None
        loop = self._loop
        assert loop is not None
        now = loop.time() + 1e-6  # the loop may run a timer up to its clock's resolution early
        for deadline in self._open:
            if deadline.at > now:
                self._timer = loop.call_at(deadline.at, self._expire)
                return
            if not deadline.expired:
                deadline.expired = True
                deadline.task.cancel()


class Slots:
    """At most ``n`` attempts in flight, first come first served: ``asyncio.Semaphore`` without its costs on
    the way through (a coroutine to enter, another to acquire, a scan of its waiters on each; ~1 µs an
    attempt), since most attempts find a slot free. :meth:`take_now` is the synchronous fast path."""

    def __init__(self, n: int) -> None:
        self._free = n
        self._waiters: deque[asyncio.Future[None]] = deque()

    def take_now(self) -> bool:
        """Take a slot if one is free and nobody is waiting for one (True), else leave it (False)."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def take(self) -> None:
        """Wait for a slot, in turn. A waiter cancelled after it was handed a slot hands it on."""
        if self.take_now():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give()  # the slot came just as this waiter was cancelled: the next one gets it
            else:
                self._waiters.remove(waiter)
            raise

    def give(self) -> None:
        """Return a slot: to the first waiter still waiting, or to the free ones."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1
