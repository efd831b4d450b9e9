"""From verdicts to rankings.

A pairwise *result* for candidates (i, j), i < j, is +1 (i better), -1 (j better),
0 (tie) or None (undecided: a verdict is missing). Both seat orders must agree for
a win; disagreement is a tie (position bias cancels out instead of deciding).

Rankings use Copeland scores on the win graph (wins minus losses), so cycles and
ties give equal ranks rather than an arbitrary order.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx

from referees.verdicts import TIE, A, B

Pair = tuple[int, int]
_FORWARD = {A: 1, B: -1, TIE: 0}   # i shown as A
_BACKWARD = {A: -1, B: 1, TIE: 0}  # j shown as A


def dense_ranks(keys: Sequence[Any], *, lower_is_better: bool = False) -> list[int]:
    """Dense ranks, 0 = best: equal keys share a rank and the next key takes the next rank.

    Keys are scores (higher is better) or, with lower_is_better, anything ordered where a
    smaller value wins (e.g. tuples compared key by key). The one ranking rule of the project.
    """
    levels = sorted(set(keys), reverse=not lower_is_better)
    place = {k: i for i, k in enumerate(levels)}
    return [place[k] for k in keys]


def both_orders(forward: str | None, backward: str | None) -> int | None:
    """Combine the verdict with i first and the verdict with j first."""
    if forward is None or backward is None:
        return None
    f, b = _FORWARD[forward], _BACKWARD[backward]
    return f if f == b else 0


def order_readings(forward: str | None, backward: str | None) -> list[int | None]:
    """What each seat order alone says about i (+1 better, -1 worse, 0 tie, None missing): the
    strict, JudgeBench-style reading, where a pair counts as right only if both are right."""
    return [None if forward is None else _FORWARD[forward], None if backward is None else _BACKWARD[backward]]


def from_groups(groups: list[list[int]]) -> dict[Pair, int]:
    """Pairwise results implied by one listwise ranking (groups of candidate indices, best first)."""
    level = {c: k for k, g in enumerate(groups) for c in g}
    out = {}
    for i in level:
        for j in level:
            if i < j:
                out[(i, j)] = (level[i] < level[j]) - (level[i] > level[j])
    return out


def merge_orders(first: Mapping[Pair, int] | None, second: Mapping[Pair, int] | None, pairs: Iterable[Pair]
                 ) -> dict[Pair, int | None]:
    """Two listwise readings (shown in opposite orders): equal -> kept, different -> tie."""
    out: dict[Pair, int | None] = {}
    for p in pairs:
        if first is None or second is None:
            out[p] = None
        else:
            out[p] = first[p] if first[p] == second[p] else 0
    return out


def copeland(n: int, results: Mapping[Pair, int | None]) -> tuple[list[int], list[float | None]]:
    """(dense ranks 0 = best, win share per candidate or None if it had no decided comparison)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    decided = [0] * n
    points = [0.0] * n
    for (i, j), r in results.items():
        if r is None:
            continue
        decided[i] += 1
        decided[j] += 1
        if r > 0:
            g.add_edge(i, j)
            points[i] += 1
        elif r < 0:
            g.add_edge(j, i)
            points[j] += 1
        else:
            points[i] += 0.5
            points[j] += 0.5
    score = [g.out_degree(k) - g.in_degree(k) for k in range(n)]
    ranks = dense_ranks(score)
    share = [round(points[k] / decided[k], 4) if decided[k] else None for k in range(n)]
    return ranks, share


def consensus(per_referee: Iterable[Mapping[Pair, int | None]], pairs: Iterable[Pair]) -> dict[Pair, int | None]:
    """Net vote per pair over the referees that decided it (wins minus losses; a tie votes 0).

    A tie from a referee usually means its two seat orders disagreed (position bias), which
    carries no information, so it does not outvote a referee that saw a consistent winner.
    """
    tables = list(per_referee)
    out: dict[Pair, int | None] = {}
    for p in pairs:
        votes = [t[p] for t in tables if t.get(p) is not None]
        if not votes:
            out[p] = None
        else:
            s = sum(votes)
            out[p] = (s > 0) - (s < 0)
    return out


def agreement(mine: Mapping[Pair, int | None], panel: Mapping[Pair, int | None]) -> float | None:
    """Share of pairs both decided on which a referee agrees with the panel (ties must match ties)."""
    both = [p for p, r in mine.items() if r is not None and panel.get(p) is not None]
    if not both:
        return None
    return round(sum(mine[p] == panel[p] for p in both) / len(both), 4)
