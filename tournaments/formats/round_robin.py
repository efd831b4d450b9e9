"""Round-robin schedules with deterministic match ids and seeds.

A match is named by its cell: the family's key (what makes its matches what they are, see
TournamentConfig.family_key), its seats in order with each seat's variant definition, the round
and the repetition. Not by the whole player list or the number of rounds: adding a player or a
round to a tournament adds cells and keeps every existing one, so only the new matches are played.
"""
from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence

from arena.records import ScheduledMatch


def cell(family: str, seats: Sequence[str], round_no: int, repetition: int, key: str = "",
         seat_keys: Mapping[str, str] | None = None) -> str:
    seat_part = "\x1e".join(f"{s}\x1d{(seat_keys or {}).get(s, '')}" for s in seats)
    return "\x1f".join([key, family, seat_part, str(round_no), str(repetition)])


def match_id(tournament_id: str, family: str, seats: Sequence[str], round_no: int, repetition: int,
             key: str = "", seat_keys: Mapping[str, str] | None = None) -> str:
    # The tournament id keeps ids unique in a store holding two tournaments with a common cell.
    where = cell(family, seats, round_no, repetition, key, seat_keys)
    return hashlib.sha256(f"{tournament_id}\x1f{where}".encode()).hexdigest()[:20]


def seat_orders(group: Sequence[str]) -> list[tuple[str, ...]]:
    """Every player takes every seat once: both orders for two, all rotations for more."""
    k = len(group)
    return [tuple(group[(i + s) % k] for i in range(k)) for s in range(k)]


def round_robin(tournament_id: str, family: str, players: Sequence[str], seats: int, rounds: int,
                seed: int, repetitions: int = 1, start_seq: int = 0, key: str = "",
                seat_keys: Mapping[str, str] | None = None) -> list[ScheduledMatch]:
    """Every group of `seats` players meets in every seat order, `rounds` times."""
    if seats < 1:
        raise ValueError("a family needs at least one seat")
    if len(players) < seats:
        raise ValueError(f"family {family!r} needs {seats} players per match, the tournament has {len(players)}")
    out: list[ScheduledMatch] = []
    seq = start_seq
    # Rotations of the sorted group: the seat orders of three or more do not depend on where the
    # players stand in the list, so reordering the list keeps the matches.
    orders = [order for group in itertools.combinations(players, seats) for order in seat_orders(sorted(group))]
    for round_no in range(rounds):
        for order in orders:  # the same seat tuples in every round: shared, not copied per match
            for rep in range(repetitions):
                where = cell(family, order, round_no, rep, key, seat_keys)
                mid = hashlib.sha256(f"{tournament_id}\x1f{where}".encode()).hexdigest()[:20]
                # The seed comes from the cell, not the id: a fresh tournament with the same
                # matches plays the same games as one grown to them.
                match_seed = int(hashlib.sha256(f"{seed}:{where}".encode()).hexdigest()[:8], 16)
                out.append(ScheduledMatch(mid, tournament_id, family, order, round_no, rep, seq, match_seed))
                seq += 1
    return out
