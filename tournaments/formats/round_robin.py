"""Round-robin schedules with deterministic match ids and seeds."""
from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence

from arena.records import ScheduledMatch


def match_id(tournament_id: str, family: str, seats: Sequence[str], round_no: int, repetition: int) -> str:
    key = "\x1f".join([tournament_id, family, "\x1e".join(seats), str(round_no), str(repetition)])
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def seat_orders(group: Sequence[str]) -> list[tuple[str, ...]]:
    """Every player takes every seat once: both orders for two, all rotations for more."""
    k = len(group)
    return [tuple(group[(i + s) % k] for i in range(k)) for s in range(k)]


def round_robin(tournament_id: str, family: str, players: Sequence[str], seats: int, rounds: int,
                seed: int, repetitions: int = 1, start_seq: int = 0) -> list[ScheduledMatch]:
    """Every group of `seats` players meets in every seat order, `rounds` times."""
    if seats < 1:
        raise ValueError("a family needs at least one seat")
    if len(players) < seats:
        raise ValueError(f"family {family!r} needs {seats} players per match, the tournament has {len(players)}")
    out: list[ScheduledMatch] = []
    seq = start_seq
    orders = [order for group in itertools.combinations(players, seats) for order in seat_orders(group)]
    for round_no in range(rounds):
        for order in orders:  # the same seat tuples in every round: shared, not copied per match
            for rep in range(repetitions):
                mid = match_id(tournament_id, family, order, round_no, rep)
                match_seed = int(hashlib.sha256(f"{seed}:{mid}".encode()).hexdigest()[:8], 16)
                out.append(ScheduledMatch(mid, tournament_id, family, order, round_no, rep, seq, match_seed))
                seq += 1
    return out
