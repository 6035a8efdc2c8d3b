"""Prompts built ahead of the workers: task code off the event loop without a thread trip per doc.

Building a prompt (``doc_to_text``, ``doc_to_visual``, image encoding) is task code, so it runs in the
run's task threads (:mod:`assay.run.taskthreads`), which take the docs submitted in one turn of the loop
in one trip and give each call its time limit. A window of docs is kept in flight, handed over in document
order (a scripted server, or a rerun, sees the same order) through a bounded queue, so memory stays flat
however many docs a run has.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError

if TYPE_CHECKING:
    from assay.run.prepare import Prepared
    from assay.run.taskthreads import TaskThreads
    from assay.tasks.task import DocWork, Task
    from assay.types import Message

#: Prompts in the making at once: enough to keep every worker fed and every core busy with images.
WINDOW = 64
#: Docs submitted together once the window has room (one trip to a thread for text prompts).
REFILL = 16


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


class PromptQueue(asyncio.Queue["Prompt | None"]):
    """The built prompts the workers take, holding at most ``size``: the feeder waits for room for a whole
    refill (:meth:`room`) and is woken once per refill, where a bounded ``asyncio.Queue`` wakes it for every
    prompt a worker takes (a task step a doc)."""

    def __init__(self, size: int) -> None:
        super().__init__()  # unbounded as a queue: room() keeps it to ``size``
        self._low = max(0, size - REFILL)
        self._room: asyncio.Future[None] | None = None

    def get_nowait(self) -> Prompt | None:
        item = super().get_nowait()
        if self._room is not None and self.qsize() <= self._low:
            if not self._room.done():
                self._room.set_result(None)
            self._room = None
        return item

    async def room(self) -> None:
        """Return once a refill fits."""
        while self.qsize() > self._low:
            self._room = asyncio.get_running_loop().create_future()
            await self._room


def _docs(p: Prepared) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for name in p.names:
        for doc_id, doc in p.docs[name]:
            yield name, doc_id, doc


def builds_on_the_loop(task: Task) -> bool:
    """Whether building this task's prompts runs only assay's own pure code, bounded by the doc's size: a
    generation task with text from a field or a plain ``{{ field }}`` template (no filter, expression or
    block), no visuals or chat messages, no few-shot examples (they may load a split), a target read from a
    field. Such prompts are built on the event loop as the docs are taken (a trip to a task thread and back
    costs more than the work: ~7 % of the dispatch rate, bench/throughput.py); any other task's prompt
    building is task code, in the task threads with their time limit."""
    from assay.tasks.yaml.templates import is_plain_substitution

    config = task.config
    return (task.output_type == "generate_until" and config.doc_to_messages is None
            and config.doc_to_visual is None and task.num_fewshot == 0
            and isinstance(config.doc_to_text, str) and is_plain_substitution(config.doc_to_text)
            and is_plain_substitution(config.description or "") and config.target_from_a_field)


def _built_now(p: Prepared, name: str, doc_id: int, doc: dict[str, Any]) -> Prompt | asyncio.Future[DocWork]:
    """:func:`_build` on the event loop: the prompt (a doc whose task code failed: its error), or what any
    other exception makes of a task thread's work (a failed future, raised when the prompt is handed over)."""
    try:
        built = _build(p, name, doc_id, doc)
    except AssayError as exc:
        return Prompt(name, doc_id, doc, error=exc)
    except Exception as exc:
        work: asyncio.Future[DocWork] = asyncio.get_running_loop().create_future()
        work.set_exception(exc)
        return work
    return Prompt(name, doc_id, doc, built.target, built)


def _build(p: Prepared, name: str, doc_id: int, doc: dict[str, Any]) -> DocWork:
    """Runs in a task thread: the doc's requests, counted as they are built (what the run sends)."""
    work = p.tasks[name].work(doc_id, doc, p.params[name])
    if p.tally is not None and not p.tally.complete:
        p.tally.add(name, work.target, work.generate, work.loglikelihood)
    return work


async def _ready(name: str, doc_id: int, doc: dict[str, Any], work: asyncio.Future[DocWork]) -> Prompt:
    with contextlib.suppress(AssayError):  # (read from the future by _taken)
        await work
    return _taken(name, doc_id, doc, work)


def _taken(name: str, doc_id: int, doc: dict[str, Any], work: asyncio.Future[DocWork]) -> Prompt:
    """The prompt of a finished ``work``; a doc whose task code failed is an error, and the run goes on."""
    exc = work.exception()
    if isinstance(exc, AssayError):
        return Prompt(name, doc_id, doc, error=exc)
    built = work.result()  # (raises what is not an AssayError, and CancelledError, as awaiting it did)
    return Prompt(name, doc_id, doc, built.target, built)


async def feed(p: Prepared, queue: asyncio.Queue[Prompt | None], threads: TaskThreads | None = None) -> None:
    """Fill ``queue`` with every doc's prompt, in order, then one ``None`` (the end). ``threads``: the run's
    task threads (else a few of its own, for a pass that only builds prompts)."""
    from assay.run.taskcode import time_limit
    from assay.run.taskthreads import TaskThreads

    own = threads is None
    if threads is None:
        threads = TaskThreads(asyncio.get_running_loop(), max_threads=WINDOW // REFILL, time_limit=time_limit.get())
    # Each doc's prompt in order: built (on the loop), or its work in a task thread.
    pending: deque[Prompt | tuple[str, int, dict[str, Any], asyncio.Future[DocWork]]] = deque()
    bulk = isinstance(queue, PromptQueue)

    async def hand_over(count: int) -> None:
        if bulk:
            await queue.room()  # type: ignore[attr-defined]
        for _ in range(min(count, len(pending))):
            item = pending.popleft()
            if isinstance(item, Prompt):
                prompt = item
            else:  # work finished already is taken without a coroutine to await it
                name, doc_id, doc, work = item
                prompt = _taken(name, doc_id, doc, work) if work.done() else await _ready(name, doc_id, doc, work)
            if bulk:
                queue.put_nowait(prompt)
            else:
                await queue.put(prompt)

    on_the_loop = {name for name in p.names if builds_on_the_loop(p.tasks[name])}
    try:
        for name, doc_id, doc in _docs(p):
            built = _built_now(p, name, doc_id, doc) if name in on_the_loop else \
                threads.submit(name, "building the prompt", _build, p, name, doc_id, doc)
            pending.append(built if isinstance(built, Prompt) else (name, doc_id, doc, built))
            if len(pending) >= WINDOW:
                await hand_over(REFILL)  # then the next REFILL docs are submitted in one turn of the loop
        while pending:
            await hand_over(REFILL)
        await queue.put(None)
    finally:
        for item in pending:
            if not isinstance(item, Prompt):
                item[3].cancel()
        if own:
            threads.close()
