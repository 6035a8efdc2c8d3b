"""What bounds attempts in flight (assay.model.inflight). One timer keeps every time limit: each attempt
past its deadline is cancelled and told so, an attempt that ended is never touched again, and a cancellation
from outside stays a cancellation. Slots hold the concurrency limit, waiters served in turn."""

from __future__ import annotations

import asyncio

import pytest

from assay.model.inflight import Deadlines, Slots


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


async def test_slots_hold_the_limit_and_serve_waiters_in_turn() -> None:
    slots = Slots(2)
    order: list[int] = []
    in_flight = [0, 0]  # now, most seen

    async def use(n: int) -> None:
        await slots.take()
        in_flight[0] += 1
        in_flight[1] = max(in_flight)
        order.append(n)
        await asyncio.sleep(0.01)
        in_flight[0] -= 1
        slots.give()

    await asyncio.gather(*(use(n) for n in range(6)))
    assert order == list(range(6)) and in_flight == [0, 2]
    assert slots.take_now() and slots.take_now() and not slots.take_now()


async def test_a_waiter_cancelled_as_its_slot_comes_hands_it_on() -> None:
    slots = Slots(1)
    assert slots.take_now()
    first = asyncio.ensure_future(slots.take())
    second = asyncio.ensure_future(slots.take())
    await asyncio.sleep(0)
    slots.give()  # the slot goes to the first waiter ...
    first.cancel()  # ... which is cancelled before it runs: the second waiter gets the slot
    await asyncio.wait_for(second, 1)
    assert first.cancelled() and not slots.take_now()
    slots.give()
    assert slots.take_now()
