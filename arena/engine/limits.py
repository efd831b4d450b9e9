"""An adjustable concurrency limit that learns how much a server accepts.

One per (provider, endpoint, model). Additive increase / multiplicative decrease:
a rate-limit answer halves the limit, and every `limit` successful calls made while
the limit was actually binding (all slots busy, or callers waiting) add one slot back,
up to the configured maximum. A burst of rate limits from calls that all started
before the last decrease counts once, so a single overload does not collapse the
limit to 1.

Waiters are served first-in first-out, so a shrunken limit does not starve anyone.
"""
from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass
class Slot:
    """A held place under the limit; remembers what the limit looked like when taken."""

    generation: int
    saturated: bool
    released: bool = False


class AdaptiveLimit:
    def __init__(self, limit: int, *, minimum: int = 1, maximum: int | None = None, decrease: float = 0.5):
        if limit < 1:
            raise ValueError("a concurrency limit must be at least 1")
        self.maximum = max(limit, maximum or limit)
        self.minimum = max(1, min(minimum, limit))
        self.limit = limit
        self.decrease = decrease
        self.in_flight = 0
        self.decreases = 0  # times the limit shrank, for the dashboard and tests
        self.increases = 0
        self._generation = 0  # bumped on each decrease
        self._credit = 0.0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for f in self._waiters if not f.done())

    def try_acquire(self) -> Slot | None:
        """A slot if one is free now and nobody waits for it, else None (then: `await acquire()`).
        Synchronous, so the common case costs no coroutine."""
        if not self._waiters and self.in_flight < self.limit:
            self.in_flight += 1
            return Slot(self._generation, self.in_flight >= self.limit)
        return None

    async def acquire(self) -> Slot:
        saturated = self.in_flight + len(self._waiters) + 1 >= self.limit
        if not self._waiters and self.in_flight < self.limit:
            self.in_flight += 1
            return Slot(self._generation, saturated)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                # The slot was granted just as we were cancelled: hand it on.
                self.in_flight -= 1
                self._wake()
            else:
                try:
                    self._waiters.remove(fut)
                except ValueError:
                    pass
            raise
        return Slot(self._generation, True)

    def release(self, slot: Slot, *, ok: bool = True) -> None:
        """Give the slot back; `ok` means the call succeeded (counts toward growth)."""
        if slot.released:
            return
        slot.released = True
        self.in_flight -= 1
        if ok and slot.saturated and slot.generation == self._generation and self.limit < self.maximum:
            self._credit += 1.0 / self.limit
            if self._credit >= 1.0:
                self._credit = 0.0
                self.limit += 1
                self.increases += 1
        self._wake()

    def rate_limited(self, slot: Slot) -> bool:
        """The call in `slot` was refused for rate: shrink, once per generation.

        Returns True if the limit shrank."""
        if slot.generation != self._generation:
            return False  # this overload was already answered
        self._generation += 1
        self._credit = 0.0
        new = max(self.minimum, int(self.limit * self.decrease))
        if new == self.limit:
            return False
        self.limit = new
        self.decreases += 1
        return True

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            fut = self._waiters.popleft()
            if fut.done():
                continue
            self.in_flight += 1
            fut.set_result(None)

    def set_maximum(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = min(self.limit, self.maximum)
        self._wake()
