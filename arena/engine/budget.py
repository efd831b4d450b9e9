"""The cost limit's reservations: calls in flight may overshoot the limit by at most one call per model.

Before a paid call starts it reserves the most it could cost (its prompt at ~4 characters a token
plus max_tokens of output, at the model's price). It starts when the money spent plus every
reservation plus its own still fits the limit, or when no other call of its model is in flight
(so each model makes progress and the overshoot is at most one call per model); otherwise it waits
for a call to settle, then looks again. Free and unpriced models never wait.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from arena.engine.pricing import Price
from arena.records import Messages


def estimate(price: Price | None, messages: Messages, max_tokens: int) -> float | None:
    """The most a call can cost; None when it costs nothing."""
    if price is None:
        return None
    chars = sum(len(str(m.get("content", ""))) for m in messages)
    most = price.cost(chars // 4 + 1, max_tokens)
    return most if most > 0 else None


class Reservations:
    def __init__(self) -> None:
        self._in_flight: dict[str, int] = {}  # model key -> paid calls in flight
        self._reserved = 0.0
        self._waiters: list[asyncio.Future[None]] = []

    async def reserve(self, key: str, amount: float, limit: float, spent: Callable[[], float]) -> bool:
        """Wait for room under `limit`; False once `spent()` has reached it (nothing reserved)."""
        while True:
            if spent() >= limit:
                return False
            busy = self._in_flight.get(key, 0)
            if not busy or spent() + self._reserved + amount <= limit:
                self._in_flight[key] = busy + 1
                self._reserved += amount
                return True
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def settle(self, key: str, amount: float) -> None:
        """The call is over; its real cost must be in `spent()` before the waiters run (they run
        at the caller's next await, so accounting it without awaiting in between is enough)."""
        self._in_flight[key] -= 1
        self._reserved = max(0.0, self._reserved - amount)
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(None)
