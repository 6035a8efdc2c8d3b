"""The worker actor: a shard of docs in, sample records out as they finish.

A shard runs through the local execute stage itself (:func:`assay.run.execute.execute`): prompts and media
decoding, the Model wrapper's retries and classification, task scoring and the judge are the very code a
local run uses. Only the ends differ: its one sink relays each finished record (redacted here, before it
travels) with what the sample adds to its task's tally, and the driver writes it. Records stream back in
small batches as they finish, so a worker that dies loses only what it had in flight.

Nothing reaches a worker in the clear that could show a secret: the settings come sealed for its own key
(:mod:`assay.cluster.sealed`), its log goes through the redactor, and an unexpected error comes back as a
redacted line rather than a traceback in Ray's logs.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from assay.judge.accounting import NOT_JUDGED, JudgeTally, SampleJudgement
from assay.run.results import TaskTally
from assay.types import SampleError, Usage

if TYPE_CHECKING:
    from assay.cluster.sealed import Opener
    from assay.env.redaction import Redactor
    from assay.run.prepare import Prepared

log = logging.getLogger("assay.cluster")


@dataclass
class Contribution:
    """What one sample adds to its task's tally (the arguments of :meth:`TaskTally.add` and the judgement)."""

    scores: dict[str, Any] | None
    error: SampleError | None
    usage: Usage
    cached: bool
    judgement: SampleJudgement = NOT_JUDGED


class _RelayJudgeTally(JudgeTally):
    def __init__(self, owner: RelayTally) -> None:
        super().__init__()
        self._owner = owner

    def add(self, judgement: SampleJudgement) -> None:
        super().add(judgement)
        if self._owner.last is not None:
            self._owner.last.judgement = judgement


@dataclass
class RelayTally(TaskTally):
    """A task's tally that also remembers the last sample's contribution, for the relay to send on.

    The execute stage adds to the tally, then to the judge tally, then hands the record to the sinks, with
    nothing awaited in between (no ``--log_media`` on a cluster), so the last contribution is the record's."""

    last: Contribution | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.judge = _RelayJudgeTally(self)

    def add(self, scores: dict[str, float] | None, error: SampleError | None, usage: Usage, cached: bool) -> None:
        super().add(scores, error, usage, cached)
        self.last = Contribution(scores, error, usage, cached)


class Relay:
    """The worker's one sink: finished samples, queued for the stream back to the driver."""

    def __init__(self, tallies: dict[str, RelayTally], redactor: Redactor) -> None:
        self._tallies = tallies
        self._redactor = redactor
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def start(self, run_info: dict[str, Any], task_names: list[str]) -> None:
        pass

    def sample(self, task: str, record: dict[str, Any]) -> None:
        tally = self._tallies[task]
        contribution, tally.last = tally.last, None
        self.queue.put_nowait({"task": task, "doc_id": record["doc_id"], "record": self._redactor.redact_obj(record),
                               "contribution": contribution, "answered": bool(record.get("resps"))})

    def finish(self, results: dict[str, Any]) -> None:
        pass

    async def batches(self, runner: asyncio.Future[Any]) -> AsyncIterator[list[dict[str, Any]]]:
        """Whatever is queued, as soon as there is something, until ``runner`` is done and all is sent."""
        while True:
            if self.queue.empty():
                if runner.done():
                    return
                getter = asyncio.ensure_future(self.queue.get())
                await asyncio.wait([getter, runner], return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    continue
                batch = [getter.result()]
            else:
                batch = []
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            yield batch


class ShardWorker:
    """A Ray actor (see :mod:`assay.cluster.actors`): ``public_key`` → ``start`` (sealed settings) → ``run``."""

    def __init__(self) -> None:
        from assay.cluster.sealed import Opener

        self._opener: Opener | None = Opener()
        self._p: Prepared | None = None
        self._redactor: Redactor | None = None

    def public_key(self) -> bytes:
        assert self._opener is not None
        return self._opener.public

    async def start(self, sealed: bytes, gate: Any, cache_service: Any, worker: str) -> dict[str, Any]:
        """Open the settings, then load what the driver loaded. ``{"host"}``, or ``{"error", "hint"}``."""
        from assay.cluster.worker_prep import prepare_worker
        from assay.env.log import configure_logging
        from assay.errors import AssayError, ConfigError
        from assay.judge import intercept

        assert self._opener is not None
        settings, options, redactor = pickle.loads(self._opener.open(sealed))
        self._opener = None  # one use: nothing can be opened with it again
        self._redactor = redactor
        configure_logging(settings.verbosity, redactor)
        try:
            self._p = await prepare_worker(settings, options, redactor, gate=gate, cache_service=cache_service,
                                           worker=worker)
        except AssayError as exc:  # sent back as the error it is (its exit code), redacted, without traceback
            exc.message = redactor.redact(exc.message)
            exc.hint = redactor.redact(exc.hint) if exc.hint else exc.hint
            exc.args = (exc.message,)
            exc.__traceback__ = exc.__cause__ = exc.__context__ = None
            return {"error": exc}
        except Exception as exc:
            message = redactor.redact(f"a Ray worker could not load the run: {type(exc).__name__}: {exc}")
            return {"error": ConfigError(message, hint="rerun with --verbosity DEBUG")}
        # As on the driver: task code's own judge calls (requests, openai, httpx) go to the run's judge, for
        # as long as this worker serves the run (its process ends with it).
        intercept.install()
        return {"host": socket.gethostname()}

    async def run(self, shard: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        """Stream the shard's finished samples back, then a ``{"fatal": …}`` item if the run must stop."""
        from assay.run.execute import RunState, execute

        p, redactor = self._p, self._redactor
        assert p is not None and redactor is not None
        task = shard["task"]
        docs = p.docs[task]
        chosen = [docs[position] for position, _ in shard["items"]]
        if [doc_id for doc_id, _ in chosen] != [doc_id for _, doc_id in shard["items"]]:
            yield [{"crash": f"{task}: this node selects different docs than the driver (a different dataset "
                              "version or task folder?)"}]
            return
        tallies = {task: RelayTally(total=len(chosen))}
        relay = Relay(tallies, redactor)
        state = RunState(dict(tallies))
        state.successes = shard["successes"]
        mine = replace(p, names=[task], docs={task: chosen}, sinks=[relay], file_sink=None, media=None)
        runner = asyncio.ensure_future(execute(mine, state))
        try:
            async for batch in relay.batches(runner):
                yield [*batch, {"stats": self._stats()}]
            runner.result()
        except Exception as exc:  # a bug of ours: one redacted line for the driver, no traceback in Ray's logs
            yield [{"crash": redactor.redact(f"{type(exc).__name__}: {exc}")}]
            return
        finally:
            if not runner.done():
                runner.cancel()
        if state.fatal is not None:
            fatal = state.fatal
            yield [{"fatal": {"message": redactor.redact(fatal.message), "hint": redactor.redact(fatal.hint or ""),
                              "kind": fatal.kind, "status": fatal.status, "provider": fatal.provider,
                              "request_id": fatal.request_id, "auth": type(fatal).__name__ == "ProviderAuthError"}}]

    def _stats(self) -> dict[str, Any]:
        """This worker's request counters so far (the driver adds every worker's latest to its own)."""
        assert self._p is not None
        s = self._p.model.stats
        out: dict[str, Any] = {"model": (s.requests, s.retries, s.failures, s.cache_hits, s.usage)}
        if self._p.judging is not None:
            judge = self._p.judging.judge
            j = judge.summary()
            out["judge"] = (j["requests"], j["retries"], j["request_failures"], j["cache_hits"],
                            Usage(**j["usage"]), dict(judge.outcomes))
        return out

    async def close(self) -> None:
        if self._p is not None:
            await self._p.aclose()
