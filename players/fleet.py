"""How a backend with several servers picks one for a call: a fleet of `base_urls`
(players/openai_backend.py) or of Ray replicas (players/ray_local.py). The fewest calls in flight
among the servers not resting, round-robin between equals; a server that refused, could not be
reached or died rests for a while, unless every one is resting."""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Protocol, TypeVar


class Member(Protocol):
    in_flight: int
    resting_until: float


M = TypeVar("M", bound=Member)


def pick(members: Sequence[M], turn: Iterator[int]) -> M:
    if len(members) == 1:
        return members[0]
    now = time.monotonic()
    awake = [m for m in members if m.resting_until <= now] or list(members)
    start = next(turn) % len(awake)
    return min(awake[start:] + awake[:start], key=lambda m: m.in_flight)


def rest(member: Member, seconds: float) -> None:
    member.resting_until = time.monotonic() + seconds
