"""One timer keeps every attempt's time limit (assay.model.inflight): each attempt past its deadline is
cancelled and told so, an attempt that ended is never touched again, and a cancellation from outside stays
a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from assay.model.inflight import Deadlines


async def attempt(deadlines: Deadlines, seconds: float) -> str:
    """Sleeps ``seconds`` under a deadline: "done", or "timeout" when the deadline cancelled it."""
    deadline = deadlines.start()
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        if deadlines.end(deadline):
            return "timeout"
        raise
    deadlines.end(deadline)
    return "done"


async def test_every_attempt_past_its_deadline_is_cancelled_and_the_rest_finish() -> None:
    deadlines = Deadlines(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks = []
    for i in range(6):  # started 10 ms apart: the timer is set again for each next deadline
        tasks.append(asyncio.ensure_future(attempt(deadlines, 0.2 if i % 2 else 0.01)))
        await asyncio.sleep(0.01)
    assert await asyncio.gather(*tasks) == ["done", "timeout"] * 3
    assert loop.time() - started < 0.19  # each cut at its own deadline, not left to run out
    assert not deadlines._open


async def test_an_attempt_that_ended_is_not_cancelled_later() -> None:
    deadlines = Deadlines(0.03)
    assert await attempt(deadlines, 0) == "done"
    await asyncio.sleep(0.06)  # the timer set for that attempt fires with nothing open
    assert await attempt(deadlines, 0.01) == "done"


async def test_a_cancellation_from_outside_is_not_a_timeout() -> None:
    deadlines = Deadlines(10)
    task = asyncio.ensure_future(attempt(deadlines, 5))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not deadlines._open


async def test_a_cancellation_from_outside_after_the_deadline_stays_a_cancellation() -> None:
    deadlines = Deadlines(0.02)
    seen: list[bool] = []

    async def stubborn() -> None:
        deadline = deadlines.start()
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            asyncio.current_task().cancel()  # type: ignore[union-attr]  # stopped from outside meanwhile
            seen.append(deadlines.end(deadline))
            raise

    with pytest.raises(asyncio.CancelledError):
        await asyncio.ensure_future(stubborn())
    assert seen == [False]
