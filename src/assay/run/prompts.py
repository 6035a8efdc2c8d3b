"""Prompts built ahead of the workers: task code off the event loop without a thread trip per doc.

Building a prompt (``doc_to_text``, ``doc_to_visual``, image encoding) is task code, so it runs in worker
threads. One trip per doc costs more than a text prompt takes to build (bench/throughput.py: 5,725 →
3,098 dispatches/s), so text docs go in chunks; image and video docs go one per trip, several trips at a
time, to use every core. Chunks are handed over in document order (a scripted server, or a rerun, sees
the same order) through a bounded queue, so memory stays flat however many docs a run has.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError
from assay.run.taskcode import contained

if TYPE_CHECKING:
    from assay.run.prepare import Prepared
    from assay.tasks.task import DocWork
    from assay.types import Message

#: Text docs per trip to a worker thread.
TEXT_CHUNK = 16
#: Trips in flight at once (image encoding uses every core).
PARALLEL_TRIPS = 4


@dataclass(frozen=True, slots=True)
class Prompt:
    """One doc, ready to send: its target and requests (``work``), or the task-code error that built neither."""

    task: str
    doc_id: int
    doc: dict[str, Any]
    target: Any = None
    work: DocWork | None = None
    error: AssayError | None = None

    @property
    def messages(self) -> tuple[Message, ...]:
        """The prompt as sent (the first request's), for the samples file."""
        if self.work is None:
            return ()
        if self.work.generate:
            return self.work.generate[0].messages
        return self.work.loglikelihood[0].context if self.work.loglikelihood else ()


def _chunks(p: Prepared) -> Iterator[list[tuple[str, int, dict[str, Any]]]]:
    for name in p.names:
        size = 1 if p.tasks[name].may_have_media else TEXT_CHUNK
        docs = p.docs[name]
        for start in range(0, len(docs), size):
            yield [(name, doc_id, doc) for doc_id, doc in docs[start:start + size]]


def _build(p: Prepared, chunk: list[tuple[str, int, dict[str, Any]]]) -> list[Prompt]:
    """Runs in a worker thread: each doc's prompt, its failure contained to that doc."""
    out: list[Prompt] = []
    for name, doc_id, doc in chunk:
        task = p.tasks[name]
        try:
            work = contained(name, "building the prompt", task.work, doc_id, doc, p.params[name])
        except AssayError as exc:
            out.append(Prompt(name, doc_id, doc, error=exc))
            continue
        if p.tally is not None and not p.tally.complete:  # what the run sends, counted as it is built
            p.tally.add(name, work.target, work.generate, work.loglikelihood)
        out.append(Prompt(name, doc_id, doc, work.target, work))
    return out


async def feed(p: Prepared, queue: asyncio.Queue[Prompt | None]) -> None:
    """Fill ``queue`` with every doc's prompt, in order, then one ``None`` (the end)."""
    pending: deque[asyncio.Future[list[Prompt]]] = deque()
    try:
        for chunk in _chunks(p):
            pending.append(asyncio.ensure_future(asyncio.to_thread(_build, p, chunk)))
            if len(pending) >= PARALLEL_TRIPS:
                for prompt in await pending.popleft():
                    await queue.put(prompt)
        while pending:
            for prompt in await pending.popleft():
                await queue.put(prompt)
        await queue.put(None)
    finally:
        for future in pending:
            future.cancel()
