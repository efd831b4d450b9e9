"""Per-attempt timeouts on one timer (arena/engine/deadlines.py): each attempt still ends at its
own deadline, whatever order the deadlines come in, and a cancellation from elsewhere stays one."""
from __future__ import annotations

import asyncio
import time

import pytest

from arena.engine.deadlines import Deadlines
from arena.engine.gateway import CallFailed, Gateway
from tests.players.wire import ask, compat, fast_retry
from tests.support.fault_server import FaultServer


async def _sleeper(bounds: Deadlines, budget: float, sleep: float) -> str:
    started = time.monotonic()
    try:
        async with bounds.bound(budget):
            await asyncio.sleep(sleep)
        return "done"
    except TimeoutError:
        return f"timeout {time.monotonic() - started:.1f}"


def test_every_attempt_ends_at_its_own_deadline_in_or_out_of_order():
    async def go():
        bounds = Deadlines()
        # 0.6 s, 0.2 s (before the queue's last: its own timer), 0.6 s, and one that finishes in time.
        return await asyncio.gather(_sleeper(bounds, 0.6, 5), _sleeper(bounds, 0.2, 5), _sleeper(bounds, 0.6, 5),
                                    _sleeper(bounds, 0.6, 0.05))

    assert asyncio.run(go()) == ["timeout 0.6", "timeout 0.2", "timeout 0.6", "done"]


def test_a_cancellation_from_elsewhere_is_not_a_timeout():
    async def go():
        bounds = Deadlines()
        task = asyncio.ensure_future(_sleeper(bounds, 5, 5))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await _sleeper(bounds, 0.1, 5)  # the queue still works after the cancelled one

    assert asyncio.run(go()) == "timeout 0.1"


def test_a_gateway_used_under_a_second_event_loop_still_times_out_its_attempts():
    with FaultServer(faults=["slow"] * 4, slow_s=5) as srv:
        gw = Gateway({"v": compat("v", srv.openai_url, timeout=0.3, stream=False)}, retry=fast_retry(max_attempts=1))

        async def once(last: bool) -> None:
            try:
                await ask(gw, "v")
            finally:
                if last:
                    await gw.aclose()

        for last in (False, True):  # two asyncio.run calls, as two commands of one process would
            started = time.monotonic()
            with pytest.raises(CallFailed, match="timed out"):
                asyncio.run(once(last))
            assert time.monotonic() - started < 2
