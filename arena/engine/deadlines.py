"""Per-attempt timeouts for many calls at once, on one timer.

`asyncio.timeout` schedules a timer per attempt; with a thousand calls in flight its heap of
timers (compared by a Python-level `__lt__`) costs more than the rest of the gateway per call
(docs/benchmarks.md, concurrency). Attempts of one variant mostly have the same length, so their
deadlines come in order: a queue, one timer for its head. An attempt whose deadline would come
before the queue's last (a shorter remaining overall budget) takes `asyncio.timeout` instead.

Semantics are asyncio.timeout's: the task is cancelled at its deadline and the block raises
TimeoutError; a cancellation from elsewhere stays a cancellation.
"""
from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType


class _Bound:
    __slots__ = ("owner", "deadline", "task", "cancelling", "expired", "done")

    def __init__(self, owner: "Deadlines", deadline: float, task: asyncio.Task, cancelling: int):
        self.owner, self.deadline, self.task, self.cancelling = owner, deadline, task, cancelling
        self.expired = self.done = False

    async def __aenter__(self) -> "_Bound":
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.done = True
        self.owner._finished()
        if self.expired and self.task.uncancel() <= self.cancelling and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc


class Deadlines:
    """The bounds of attempts of one length (one per length, so their deadlines come in order)."""

    def __init__(self) -> None:
        self._queue: deque[_Bound] = deque()
        self._live = 0
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def bound(self, seconds: float):
        """An async context manager that ends the block with TimeoutError after `seconds`."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a gateway used again under another event loop starts afresh
            self.__init__()  # type: ignore[misc]
            self._loop = loop
        deadline = loop.time() + seconds
        if self._queue and deadline < self._queue[-1].deadline:
            return asyncio.timeout(seconds)  # out of order: its own timer
        task = asyncio.current_task()
        assert task is not None
        b = _Bound(self, deadline, task, task.cancelling())
        self._queue.append(b)
        self._live += 1
        if self._timer is None or self._timer.when() > deadline:  # a new head: the old one's timer finished early
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_at(deadline, self._fire)
        return b

    def _finished(self) -> None:
        self._live -= 1
        q = self._queue
        while q and q[0].done:
            q.popleft()
        if len(q) > 64 and len(q) > 2 * self._live:  # a long attempt at the head holds finished ones
            self._queue = deque(b for b in q if not b.done)

    def _fire(self) -> None:
        self._timer = None
        q = self._queue
        loop = asyncio.get_running_loop()
        now = loop.time()
        while q and (q[0].done or q[0].deadline <= now):
            b = q.popleft()
            if not b.done and not b.expired:
                b.expired = True
                b.task.cancel()
        if q:
            self._timer = loop.call_at(q[0].deadline, self._fire)
