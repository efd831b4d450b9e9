"""How many matches a comparison needs, and how fragile the top of a leaderboard is.

- `matches_needed(p, tie_rate=0.0, judge_accuracy=None, level=0.95) -> int | None`: head-to-head
  matches needed for the interval of the decisive share to exclude 0.5 when the true win rate is
  p: z^2 / (4 (p - 0.5)^2) decisive matches (the normal interval at the null's variance 1/4;
  design note signal.md: 0.55: 384, 0.60: 96, 0.65: 43, 0.70: 24), divided by (1 - tie_rate) for
  the drawn ones, and by (2a - 1)^2 for a judge of accuracy a (it reports the better answer with
  probability a, so the observed edge over 0.5 shrinks by 2a - 1). At that n about half of all
  head-to-heads separate (the observed rate lands on either side of p); tests/arena/engine checks
  it against a simulation. None when no number of matches separates (p = 0.5, a <= 0.5, all ties).
- `leader_robustness(store, *, role, family, tournament_id) -> (leader, k)`: the Bradley-Terry
  leader and how many of its best matches must be dropped before another variant leads. Greedy:
  each step drops the match that helps the leader most against the current runner-up (its net
  comparisons minus the runner-up's), then refits; an upper bound on the true minimum.
"""
from __future__ import annotations

from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from arena.engine.bradley_terry import comparisons, strengths
from arena.records import ALL_FAMILIES

if TYPE_CHECKING:
    from arena.engine.store import Store


def matches_needed(p: float, tie_rate: float = 0.0, judge_accuracy: float | None = None,
                   level: float = 0.95) -> int | None:
    z = NormalDist().inv_cdf(0.5 + level / 2)
    edge = abs(p - 0.5)
    if judge_accuracy is not None:
        edge *= 2 * judge_accuracy - 1
    if edge <= 0 or tie_rate >= 1:
        return None
    decisive = z * z / (4 * edge * edge)
    return max(1, round(decisive / (1 - tie_rate)))


def leader_robustness(store: Store, *, role: str = "player", family: str = ALL_FAMILIES,
                      tournament_id: str | None = None) -> tuple[str, int] | None:
    """(leader, matches to drop to change it); None with fewer than two rated variants."""
    comps = comparisons(store, role=role, family=family, tournament_id=tournament_id)
    n = len(comps.variants)
    if n < 2:
        return None
    first = strengths(comps.matrix())
    leader = int(np.argmax(first))
    # net[m, v]: comparisons v won minus lost in match m
    net = np.zeros((len(comps.match_ids), n))
    np.add.at(net, (comps.m, comps.i), comps.w)
    np.add.at(net, (comps.m, comps.j), -comps.w)
    dropped: set[int] = set()
    s = first
    while len(dropped) < len(comps.match_ids):
        others = [k for k in range(n) if k != leader]
        runner_up = max(others, key=lambda k: s[k])
        if s[runner_up] >= s[leader] - 1e-9:
            break
        gain = net[:, leader] - net[:, runner_up]
        if dropped:
            gain[list(dropped)] = -np.inf
        dropped.add(int(np.argmax(gain)))
        s = strengths(comps.without(dropped))
    return comps.variants[leader], len(dropped)
