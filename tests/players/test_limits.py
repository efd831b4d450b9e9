"""The adaptive concurrency limit (arena/engine/limits.py) that the gateway keeps per model."""
from __future__ import annotations

import asyncio

import pytest

from arena.engine.limits import AdaptiveLimit
from tests.players.wire import run


def test_never_more_than_the_limit_in_flight_and_waiters_served_in_order():
    async def go():
        lim = AdaptiveLimit(3)
        peak, order = 0, []

        async def job(i: int) -> None:
            nonlocal peak
            slot = await lim.acquire()
            order.append(i)
            peak = max(peak, lim.in_flight)
            await asyncio.sleep(0.001)
            lim.release(slot)

        await asyncio.gather(*(job(i) for i in range(30)))
        return peak, order, lim.in_flight

    peak, order, left = run(go())
    assert peak == 3 and left == 0
    assert order == list(range(30))


def test_a_burst_of_rate_limits_from_one_window_halves_the_limit_once():
    async def go():
        lim = AdaptiveLimit(8)
        slots = [await lim.acquire() for _ in range(8)]
        shrank = [lim.rate_limited(s) for s in slots]  # all eight were refused together
        for s in slots:
            lim.release(s, ok=False)
        after_burst = lim.limit
        again = await lim.acquire()  # a call made under the new limit is refused too
        lim.rate_limited(again)
        lim.release(again, ok=False)
        return shrank, after_burst, lim.limit

    shrank, after_burst, after_second = run(go())
    assert shrank.count(True) == 1
    assert after_burst == 4 and after_second == 2


def test_the_limit_grows_back_only_while_it_is_actually_used():
    async def go():
        lim = AdaptiveLimit(8)
        for _ in range(2):  # two separate overloads: 8 -> 4 -> 2
            s = await lim.acquire()
            lim.rate_limited(s)
            lim.release(s, ok=False)
        shrunk = lim.limit
        # One caller at a time never fills two slots: no reason to grow.
        for _ in range(20):
            lim.release(await lim.acquire())
        idle = lim.limit

        # Many callers keep every slot busy: one slot back per `limit` successes.
        async def job() -> None:
            slot = await lim.acquire()
            await asyncio.sleep(0)
            lim.release(slot)

        await asyncio.gather(*(job() for _ in range(200)))
        return shrunk, idle, lim.limit

    shrunk, idle, busy = run(go())
    assert shrunk == 2 and idle == 2
    assert busy == 8  # back to the ceiling, never above


def test_a_cancelled_waiter_does_not_leak_a_slot():
    async def go():
        lim = AdaptiveLimit(1)
        held = await lim.acquire()
        waiter = asyncio.ensure_future(lim.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        lim.release(held)
        slot = await asyncio.wait_for(lim.acquire(), 1)  # still obtainable
        lim.release(slot)
        return lim.in_flight, lim.waiting

    assert run(go()) == (0, 0)


def test_a_slot_released_twice_counts_once():
    async def go():
        lim = AdaptiveLimit(2)
        slot = await lim.acquire()
        lim.release(slot)
        lim.release(slot)
        return lim.in_flight

    assert run(go()) == 0


def test_a_free_slot_is_taken_at_once_but_never_ahead_of_a_waiter():
    async def go():
        lim = AdaptiveLimit(1)
        first = lim.try_acquire()
        assert first is not None and lim.try_acquire() is None  # full
        waiter = asyncio.ensure_future(lim.acquire())
        await asyncio.sleep(0)
        lim.release(first)  # handed to the waiter, not to whoever asks next
        assert lim.try_acquire() is None
        second = await waiter
        lim.release(second)
        return lim.in_flight, lim.try_acquire() is not None

    assert run(go()) == (0, True)
