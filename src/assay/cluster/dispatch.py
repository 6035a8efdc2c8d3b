"""The driver's execute stage on a cluster: shards out, records back, one writer.

Each task's selected docs are cut into shards (small enough that every worker gets several, so a slow or
lost one costs little). Each worker runs two shards at a time (one streaming back while the next starts).
Every record that comes back is written by the driver's sinks, once: a doc already written is never
written again. A worker that dies (its process, or its node) loses only the docs of its shards not yet
written: they go back to the front of the queue for the workers left. A stop (Ctrl-C, SIGTERM) or a
fatal error ends the cluster work at once; the finish stage then writes results as a local run does.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.errors import ProviderAuthError, ProviderError
from assay.run.execute import _deliver

if TYPE_CHECKING:
    from assay.cluster.actors import Worker
    from assay.cluster.worker import Contribution
    from assay.run.control import RunControl
    from assay.run.execute import Ending, Progress, RunState
    from assay.run.prepare import Prepared

log = logging.getLogger("assay.cluster")

#: Most docs in one shard; fewer when the run is small, so each worker gets about SHARDS_PER_WORKER.
MAX_SHARD = 64
SHARDS_PER_WORKER = 4
#: Shards a worker runs at once.
LANES_PER_WORKER = 2


@dataclass(frozen=True)
class Shard:
    task: str
    items: tuple[tuple[int, int], ...]  # (position in the task's selected docs, doc_id)


def make_shards(p: Prepared, workers: int) -> deque[Shard]:
    size = max(1, min(MAX_SHARD, math.ceil(p.total_docs / max(1, workers * SHARDS_PER_WORKER))))
    shards: deque[Shard] = deque()
    for name in p.names:
        items = [(position, doc_id) for position, (doc_id, _) in enumerate(p.docs[name])]
        for start in range(0, len(items), size):
            shards.append(Shard(name, tuple(items[start:start + size])))
    return shards


class Dispatcher:
    def __init__(self, p: Prepared, state: RunState, workers: list[Worker], *, gate: Any,
                 progress: Progress | None) -> None:
        self.p, self.state, self.workers, self.gate, self.progress = p, state, workers, gate, progress
        self.shards = make_shards(p, len(workers))
        self.written: dict[str, set[int]] = {name: set() for name in p.names}
        self.in_flight = 0
        self.stats: dict[str, dict[str, Any]] = {}  # each worker's latest request counters
        self.changed = asyncio.Event()
        self.stopped = asyncio.Event()  # a fatal error or a lost output: stop everything now

    async def run(self, control: RunControl | None) -> Ending:
        try:
            return await self._run(control)
        finally:
            add_stats(self.p, self.stats.values())

    async def _run(self, control: RunControl | None) -> Ending:
        if self.p.model.stats.first_request_at is None:  # the Model's clock: the first shard goes out now
            self.p.model.stats.first_request_at = time.monotonic()
        lanes = asyncio.gather(*(self._lane(w) for w in self.workers for _ in range(LANES_PER_WORKER)))
        waits: list[asyncio.Future[Any]] = [lanes, asyncio.ensure_future(self.stopped.wait())]
        if control is not None:
            waits.append(asyncio.ensure_future(control.attach(asyncio.get_running_loop()).wait()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in waits:
                future.cancel()
            await asyncio.gather(lanes, return_exceptions=True)
        if control is not None and control.stop_requested:
            self.state.stop_reason = control.reason
            return "interrupted"
        if self.shards and not self.state.should_stop:
            self.state.fatal = ProviderError(
                f"every Ray worker was lost; {sum(len(s.items) for s in self.shards)} docs were not run",
                hint="check the cluster (`ray status`); rerun with --use_cache to pay only for what is missing",
                kind="connection")
        return "aborted" if self.state.fatal is not None or self.state.output_error is not None else "complete"

    async def _lane(self, worker: Worker) -> None:
        while worker.alive and not self.state.should_stop:
            if not self.shards:
                if self.in_flight == 0:
                    return
                self.changed.clear()
                await self.changed.wait()  # a shard may come back from a lost worker
                continue
            shard = self.shards.popleft()
            self.in_flight += 1
            try:
                await self._run_shard(worker, shard)
            finally:
                self.in_flight -= 1
                self.changed.set()

    async def _run_shard(self, worker: Worker, shard: Shard) -> None:
        from assay.cluster.actors import lost_worker_errors

        done: set[int] = set()
        spec = {"task": shard.task, "items": shard.items, "successes": self.state.successes}
        try:
            async for ref in worker.handle.run.remote(spec):
                for item in await ref:
                    if "stats" in item:
                        self.stats[worker.name] = item["stats"]
                    else:
                        self._take(shard.task, item, done)
        except lost_worker_errors() as exc:
            rest = tuple(item for item in shard.items if item[1] not in done)
            if rest:
                self.shards.appendleft(Shard(shard.task, rest))
            if worker.alive:
                worker.alive = False
                self.gate.forget.remote(worker.name)
                log.warning("Ray worker %s on %s was lost (%s); its unfinished docs go to the other workers",
                            worker.name, worker.host or "?", type(exc).__name__)

    def _take(self, task: str, item: dict[str, Any], done: set[int]) -> None:
        """One item from a worker: a finished sample (written once), or why the run must stop."""
        state = self.state
        if "fatal" in item or "crash" in item:
            state.fatal = state.fatal or _fatal(item)
            self.stopped.set()
            return
        doc_id = int(item["doc_id"])
        done.add(doc_id)
        if doc_id in self.written[task] or state.should_stop:
            return  # already written (a shard run twice), or the run is stopping: nothing more is kept
        self.written[task].add(doc_id)
        c: Contribution = item["contribution"]
        tally = state.tallies[task]
        tally.add(c.scores, c.error, c.usage, c.cached)
        tally.judge.add(c.judgement)
        if item["answered"]:
            state.successes += 1
        _deliver(self.p, state, task, item["record"])
        if state.output_error is not None:
            self.stopped.set()
        if self.progress is not None:
            self.progress.advance(task, error=c.error is not None)


def add_stats(p: Prepared, snapshots: Iterable[dict[str, Any]]) -> None:
    """Every worker's request counters into the driver's Model and judge, which the results document reports."""
    model = p.model.stats
    for snapshot in snapshots:
        requests, retries, failures, hits, usage = snapshot["model"]
        model.requests, model.retries = model.requests + requests, model.retries + retries
        model.failures, model.cache_hits, model.usage = model.failures + failures, model.cache_hits + hits, \
            model.usage + usage
        if "judge" in snapshot and p.judging is not None:
            judge = p.judging.judge
            requests, retries, failures, hits, usage, outcomes = snapshot["judge"]
            away = judge.elsewhere
            away.requests, away.retries, away.failures = away.requests + requests, away.retries + retries, \
                away.failures + failures
            away.cache_hits, away.usage = away.cache_hits + hits, away.usage + usage
            judge.outcomes.update(outcomes)


def _fatal(item: dict[str, Any]) -> ProviderError:
    if "crash" in item:
        return ProviderError(f"a Ray worker failed: {item['crash']}", kind="client",
                             hint="this is a bug in assay; rerun with --verbosity DEBUG and please report it")
    f = item["fatal"]
    cls = ProviderAuthError if f["auth"] else ProviderError
    return cls(f["message"], hint=f["hint"] or None, kind=f["kind"], status=f["status"], provider=f["provider"],
               request_id=f["request_id"])
