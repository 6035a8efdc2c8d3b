"""Worker threads for task code: off the event loop, in batches, each call with a time limit.

A thread trip per call costs more than most task code takes (a text prompt, an exact-match score: a few
µs against ~50 µs for the hop and the interpreter lock changing hands twice; bench/throughput.py). So the
calls made in one turn of the event loop go to a thread together, and their results come back together
in one wake-up of the loop. A call that turns out slow (a judge request, image decoding) hands the rest of
its batch to another thread, so one slow call never holds up the others for long.

Task code may never return. Each call has a time limit, counted from when it starts; past it, the call
fails with :class:`~assay.run.taskcode.TaskCodeError` and its thread is abandoned (Python cannot stop a
thread): the calls queued behind it go to a new thread. The threads are daemons, so an abandoned one never
keeps the process alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
from collections import deque
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

from assay.run.taskcode import contained, timed_out

#: Calls per trip to a thread (calls made in one loop turn beyond this go to further threads).
BATCH = 16
#: A call slower than this hands the rest of its batch to another thread.
HAND_OFF_S = 0.02
#: How often the loop looks at the calls under way (slow ones, and those past their time limit).
WATCH_S = 0.05


class _Job:
    __slots__ = ("args", "context", "fn", "future", "kwargs", "ok", "settled", "started", "task", "value",
                 "what")

    def __init__(self, task: str, what: str, fn: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any], future: asyncio.Future[Any]) -> None:
        self.task, self.what, self.fn, self.args, self.kwargs, self.future = task, what, fn, args, kwargs, future
        self.context = contextvars.copy_context()  # the current run and the sample's judge log go along
        self.started = 0.0
        self.ok = False
        self.value: Any = None
        self.settled = False  # loop side only: the future was given its outcome (or abandoned)


class _Batch:
    __slots__ = ("abandoned", "current", "finished", "jobs")

    def __init__(self, jobs: deque[_Job]) -> None:
        self.jobs = jobs  # popped from the left by the thread, or taken back by the loop
        self.current: _Job | None = None
        self.finished: list[_Job] = []  # done, not yet handed to the loop (the loop may take them early)
        self.abandoned = False

    def take_rest(self) -> deque[_Job]:
        """The jobs not started yet (each goes to exactly one side: popleft is atomic)."""
        rest: deque[_Job] = deque()
        with contextlib.suppress(IndexError):
            while True:
                rest.append(self.jobs.popleft())
        return rest


class TaskThreads:
    """Runs task code for one event loop. :meth:`submit` returns a future; :meth:`call` awaits it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, max_threads: int, time_limit: float | None,
                 name: str = "assay-task") -> None:
        self._loop = loop
        self._max = max(1, max_threads)
        self.time_limit = time_limit if time_limit and time_limit > 0 else None
        self._name = name
        self._queue: SimpleQueue[_Batch | None] = SimpleQueue()
        self._pending: list[_Job] = []
        self._done: deque[_Job] = deque()
        self._lock = threading.Lock()
        self._live = 0  # threads serving the queue (abandoned ones no longer count)
        self._idle = 0  # of those, waiting for a batch no one has claimed yet
        self._backlog = 0  # batches queued with no thread claimed for them (all busy, at the maximum)
        self._wake_scheduled = False
        self._active: set[_Batch] = set()
        self._outstanding = 0
        self._watching = False
        #: Calls that ran past the time limit (their threads abandoned).
        self.n_timed_out = 0
        self._closed = False

    # -- the loop side -------------------------------------------------------------------------------

    def submit(self, task: str, what: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        """``contained(task, what, fn, *args, **kwargs)`` in a worker thread; the future gets its outcome."""
        future = self._loop.create_future()
        self._pending.append(_Job(task, what, fn, args, kwargs, future))
        if len(self._pending) == 1:
            self._loop.call_soon(self._flush)
        return future

    async def call(self, task: str, what: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return await self.submit(task, what, fn, *args, **kwargs)

    def _flush(self) -> None:
        jobs, self._pending = self._pending, []
        self._outstanding += len(jobs)
        for start in range(0, len(jobs), BATCH):
            self._put(_Batch(deque(jobs[start:start + BATCH])))
        if not self._watching:
            self._watching = True
            self._loop.call_later(WATCH_S, self._watch)

    def _put(self, batch: _Batch) -> None:
        """Queue a batch, claiming an idle thread for it or starting one (any thread may call this)."""
        with self._lock:
            if self._closed:
                return
            if self._idle > 0:
                self._idle -= 1
                start = False
            else:
                start = self._live < self._max
                self._live += start
                self._backlog += not start
        self._queue.put(batch)
        if start:
            threading.Thread(target=self._serve, name=f"{self._name}-{self._live}", daemon=True).start()

    def _drain(self) -> None:
        with self._lock:
            self._wake_scheduled = False
        while self._done:
            self._settle(self._done.popleft())

    def _settle(self, job: _Job) -> None:
        """Give a finished job's future its outcome (once: the thread and the watch may both hand it in)."""
        if job.settled:
            return
        job.settled = True
        self._outstanding -= 1
        if job.future.done():  # cancelled meanwhile
            return
        if job.ok:
            job.future.set_result(job.value)
        else:
            job.future.set_exception(job.value)

    def _watch(self) -> None:
        """Every :data:`WATCH_S` while calls are out: a call running longer than :data:`HAND_OFF_S` gives up
        its batch (the finished calls are settled, the rest go to another thread); one past the time limit
        fails and its thread is abandoned."""
        now = time.monotonic()
        for batch in list(self._active):
            job = batch.current
            if job is None or job.settled or not job.started or now - job.started <= HAND_OFF_S:
                continue
            for done in list(batch.finished):
                self._settle(done)
            rest = batch.take_rest()
            if rest:
                self._put(_Batch(rest))
            if self.time_limit is not None and now - job.started > self.time_limit:
                self._abandon(batch, job, self.time_limit)
        if self._outstanding > 0 or self._pending or self._active:
            self._loop.call_later(WATCH_S, self._watch)
        else:
            self._watching = False

    def _abandon(self, batch: _Batch, job: _Job, limit: float) -> None:
        batch.abandoned = True
        self._active.discard(batch)
        with self._lock:
            self._live -= 1  # a new thread may take its place
        self.n_timed_out += 1
        job.value, job.ok = timed_out(job.task, job.what, limit), False
        self._settle(job)

    def close(self) -> None:
        """No more calls: idle threads end (busy or abandoned ones are daemons and end with the process)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._queue.put(None)

    # -- the thread side -----------------------------------------------------------------------------

    def _serve(self) -> None:
        while (batch := self._queue.get()) is not None:
            self._active.add(batch)
            self._run(batch)
            self._active.discard(batch)
            if batch.abandoned:
                return  # the loop gave up on this thread; a new one took its place
            with self._lock:
                if self._closed:
                    return
                if self._backlog:
                    self._backlog -= 1  # a queued batch waits for this thread
                else:
                    self._idle += 1

    def _run(self, batch: _Batch) -> None:
        while not batch.abandoned:
            try:
                job = batch.jobs.popleft()
            except IndexError:
                break
            if not job.future.cancelled():
                batch.current = job
                job.started = time.monotonic()
                try:
                    job.value = job.context.run(contained, job.task, job.what, job.fn, *job.args, **job.kwargs)
                    job.ok = True
                except BaseException as exc:  # contained() made it an AssayError
                    job.value = exc
                if batch.abandoned:
                    break  # too late: this call's future already failed
            batch.finished.append(job)
            if job.started and time.monotonic() - job.started > HAND_OFF_S and batch.jobs:
                self._deliver(batch.finished)  # slow task code: the rest of the batch goes to another thread
                batch.finished = []
                rest = batch.take_rest()
                if rest:
                    self._put(_Batch(rest))
        batch.current = None
        self._deliver(batch.finished)

    def _deliver(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        self._done.extend(jobs)
        with self._lock:
            wake, self._wake_scheduled = not self._wake_scheduled, True
        if wake:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
                self._loop.call_soon_threadsafe(self._drain)
