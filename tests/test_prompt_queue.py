"""The prompts queue (assay.run.prompts.PromptQueue): first in, first out, never more than its size held,
and the feeder woken once a whole refill fits rather than at every prompt taken."""

from __future__ import annotations

import asyncio

from assay.run.prompts import REFILL, Prompt, PromptQueue


def prompt(n: int) -> Prompt:
    return Prompt("t", n, {})


async def test_the_feeder_waits_for_room_for_a_whole_refill() -> None:
    queue = PromptQueue(REFILL * 2)
    for n in range(REFILL * 2):
        queue.put_nowait(prompt(n))
    room = asyncio.ensure_future(queue.room())
    taken = []
    for _ in range(REFILL - 1):
        taken.append((await queue.get()).doc_id)  # type: ignore[union-attr]
        await asyncio.sleep(0)
        assert not room.done()  # not yet room for a refill: the feeder sleeps on
    taken.append((await queue.get()).doc_id)  # type: ignore[union-attr]
    await asyncio.wait_for(room, 1)
    assert taken == list(range(REFILL)) and queue.qsize() == REFILL


async def test_room_is_at_once_when_there_is_room() -> None:
    queue = PromptQueue(REFILL * 2)
    queue.put_nowait(prompt(0))
    await asyncio.wait_for(queue.room(), 1)
    queue.put_nowait(None)
    assert (await queue.get()).doc_id == 0  # type: ignore[union-attr]
    assert await queue.get() is None
