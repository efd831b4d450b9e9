"""What a family sees while it plays one match."""
from __future__ import annotations

import asyncio
import bisect
import functools
import hashlib
import random
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any

from arena.engine.gateway import CallFailed, CostLimitReached, Gateway
from arena.records import CallRecord, Completion, Constraint, Messages, ScheduledMatch

UNLEASHED = "UNLEASHED: "


@dataclass
class MatchContext:
    match: ScheduledMatch
    gateway: Gateway
    options: dict[str, Any] = field(default_factory=dict)
    referees: tuple[str, ...] = ()
    meta_referees: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    players: tuple[str, ...] = ()  # the tournament's whole field, e.g. to draw judges from
    unleashed: bool = False  # put UNLEASHED: before open-ended task prompts
    # Answers each seat gives to one prompt, in families that sample (the family's `samples` option,
    # else [tournament] samples); families that play one answer per seat ignore it.
    samples: int = 1
    calls: list[CallRecord] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._asked: dict[str, int] = {}  # place -> times asked so far
        # Where each call is stored: its asyncio task's rank (by the task's first call) and its
        # number within that task (see `ask`). The tasks are held until the match ends, so no id
        # is reused; most calls come from the task before, looked up once.
        self._tasks: dict[asyncio.Task[Any], list[int]] = {}
        self._last: tuple[asyncio.Task[Any] | None, list[int]] = (None, [0, 0])
        self._keys: list[tuple[int, int]] = []  # where each of `calls` sorts, in step with it

    @functools.cached_property
    def rng(self) -> random.Random:
        """The match's own random generator, seeded by the match; made on first use, as seeding costs
        ~30 us that a family which never draws from it need not pay per match."""
        return random.Random(self.match.seed)

    @property
    def seats(self) -> tuple[str, ...]:
        return self.match.seats

    @property
    def match_id(self) -> str:
        return self.match.match_id

    def task_prompt(self, text: str) -> str:
        """The prompt of an open-ended task, prefixed when the family is unleashed."""
        return UNLEASHED + text if self.unleashed and not text.startswith(UNLEASHED) else text

    async def ask(self, variant: str, role: str, messages: Messages, *,
                  choices: tuple[str, ...] | None = None, max_tokens: int | None = None,
                  constraint: Constraint | None = None, logprobs: int = 0) -> Completion:
        """One model call, recorded with the match. Raises arena.engine.gateway.CallFailed.

        Asking exactly the same again (e.g. the k samples of one seat) gets the next derived seed:
        the samples differ, and a replay asks the same k calls."""
        # Each call's seed (and so its cache key) comes from its place in the match: who is asked,
        # in which role, with what, and how many times exactly that was asked before. Not from a
        # running count, which follows the order concurrent calls finished in: a resumed match, its
        # answers partly from the cache and so in another order, would ask different calls.
        what = "\x1e".join([f"{m['role']}\x1f{m['content']}" for m in messages])
        try:
            shape = _bounds(choices, max_tokens)
        except TypeError:  # choices given as a list: unhashable, so not remembered
            shape = f"{choices!r}\0{max_tokens}"
        shape += (f"\0{constraint.key()}" if constraint else "") + (f"\0lp{logprobs}" if logprobs else "")
        place = hashlib.sha256(f"{role}\0{variant}\0{shape}\0{what}"
                               .encode("utf-8", "surrogatepass")).hexdigest()
        n = self._asked.get(place, 0)
        self._asked[place] = n + 1
        digest = hashlib.sha256(f"{self.match.seed}\0{place}\0{n}".encode()).digest()
        seed = int.from_bytes(digest[:8], "big") % (2**31 - 1)
        # Stored in a fixed order: calls made one after another (a game's turns, one seat's ask and
        # re-asks) run in one task and keep their order; calls asked together (asyncio.gather makes a
        # task of each, in argument order) follow the order they were asked in, not finished in.
        order = self._place_in_order()
        mine: list[CallRecord] = []
        try:
            return await self.gateway.ask(variant, role, messages, match_id=self.match_id, seed=seed,
                                          choices=choices, max_tokens=max_tokens, constraint=constraint,
                                          logprobs=logprobs, record=mine)
        finally:
            for rec in mine:
                keys = self._keys
                if not keys or keys[-1] <= order:  # calls mostly arrive in order: an append
                    keys.append(order)
                    self.calls.append(rec)
                else:
                    at = bisect.bisect_right(keys, order)
                    keys.insert(at, order)
                    self.calls.insert(at, rec)

    def _place_in_order(self) -> tuple[int, int]:
        task = asyncio.current_task()
        last, slot = self._last
        if task is not last:
            if task is None:
                return (0, len(self._keys))
            slot = self._tasks.get(task)  # type: ignore[assignment]
            if slot is None:
                slot = self._tasks[task] = [len(self._tasks) + 1, 0]
            self._last = (task, slot)
        slot[1] += 1
        return (slot[0], slot[1])

    def log(self, kind: str, **data: Any) -> None:
        self.transcript.append({"type": kind, **data})


@functools.lru_cache(maxsize=4096, typed=True)  # typed: 8 and 8.0 are written apart
def _bounds(choices: tuple[str, ...] | None, max_tokens: int | None) -> str:
    """How a call's answer is bounded, as its place is hashed: the repr of a legal-move list costs more
    than the hash, and a board game asks under the same list move after move."""
    return f"{choices!r}\0{max_tokens}"


def failed_as(exc: CallFailed, variant: str, role: str) -> CallFailed:
    """The same failure (a cost limit stays a cost limit, which stops the run) naming who failed."""
    if isinstance(exc, CostLimitReached):
        return exc
    return type(exc)(f"{role} {variant}: {exc}")  # raised in its handler: the original stays its context


async def gather_calls(aws: Iterable[Awaitable[Any]]) -> list[Any]:
    """asyncio.gather for model calls that must all succeed. A failed call fails the match, but only
    once every sibling has ended (none keeps calling after its match is committed), and the error is
    the same whichever finished first: a spent cost limit if any (the run stops cleanly), else the
    first failure in order."""
    results = await asyncio.gather(*aws, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise next((e for e in errors if isinstance(e, CostLimitReached)), errors[0])
    return results
