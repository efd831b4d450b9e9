"""Bradley-Terry ratings with bootstrap intervals, per role x family, from the stored ranked sets.

The same ranked sets TrueSkill replays (arena/engine/ratings.py: every rated set of the role, a
variant's several entries placed by `seat_summary`) become pairwise comparisons: in a k-way set
each two variants are one comparison, the one placed ahead wins, and a tie counts half a win to
each side. The fit is choix's ILSR on the comparison matrix with a small regularisation (ALPHA),
so an undefeated variant gets a large but finite strength. Intervals come from a seeded bootstrap
that resamples whole MATCHES with replacement (a match's comparisons share its task and seed, so
they are not independent), as Chatbot Arena publishes its leaderboard.

The API (the CLI and the HTML report build on these names):
- `BTRating(variant, role, family, strength, lo, hi, matches, wins, losses, draws)`: `strength`
  is the natural-log Bradley-Terry strength, centred so the field's mean is 0, so
  P(a beats b) = 1 / (1 + exp(sb - sa)); `lo`, `hi` its 95% bootstrap percentile interval;
  `matches`/`wins`/`losses`/`draws` count ranked sets as TrueSkill's record does (sole first: a
  win, shared first: a draw, else a loss). `elo` is the strength on the Elo scale (400/ln 10 per
  unit, field mean 1000) for readers who think in Elo.
- `fit(store, *, role="player", family="*", tournament_id=None, bootstrap=1000, seed=0)`: one
  BTRating per variant, best first. family "*" pools every family.
- `win_probability(store, a, b, *, role, family, ...) -> (p, lo, hi)`: P(a beats b) from the fit
  of the whole field, with its bootstrap percentile interval.
- `head_to_head(store, a, b, *, role, family, ...) -> HeadToHead`: the matches a and b played
  together; a match is a's win when a won more of its comparisons with b in it than it lost.
  `lo`/`hi` is the Wilson 95% interval (scipy) of a's share of the decisive matches.
- `comparisons(store, ...) -> Comparisons`: the data the fits use; `strengths(matrix)`,
  `bootstrap_strengths(comps, bootstrap, seed)`, `interval(samples)` and `p_beats(s, ia, ib)` the
  steps, for a caller that needs several numbers from one bootstrap.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import choix
import numpy as np
from scipy.stats import binomtest

from arena.engine.ratings import seat_summary
from arena.records import ALL_FAMILIES

if TYPE_CHECKING:
    from arena.engine.store import Store

# choix's pseudo-comparison rate between every two variants: keeps an undefeated variant finite
# (10-0 against an equal field: strength about +5) while barely moving fits with real data.
ALPHA = 0.01
LEVEL = 0.95
ELO_PER_UNIT = 400 / math.log(10)


@dataclass
class BTRating:
    variant: str
    role: str
    family: str
    strength: float
    lo: float
    hi: float
    matches: int = 0
    wins: int = 0
    losses: int = 0
    draws: int = 0

    @property
    def elo(self) -> float:
        return 1000 + ELO_PER_UNIT * self.strength

    def to_dict(self) -> dict[str, object]:
        return {"variant": self.variant, "role": self.role, "family": self.family,
                "strength": round(self.strength, 4), "lo": round(self.lo, 4), "hi": round(self.hi, 4),
                "elo": round(self.elo, 1), "matches": self.matches, "wins": self.wins,
                "losses": self.losses, "draws": self.draws}


@dataclass
class HeadToHead:
    a: str
    b: str
    wins: int
    losses: int
    draws: int
    matches: int
    lo: float  # Wilson interval of a's share of the decisive matches
    hi: float

    @property
    def decisive(self) -> int:
        return self.wins + self.losses

    @property
    def share(self) -> float | None:
        return self.wins / self.decisive if self.decisive else None

    @property
    def tie_rate(self) -> float:
        return self.draws / self.matches if self.matches else 0.0


@dataclass
class Comparisons:
    """Pairwise results as rows: row r says variant i[r] beat j[r] `w[r]` times in match m[r]."""
    variants: list[str]
    match_ids: list[str]
    m: np.ndarray
    i: np.ndarray
    j: np.ndarray
    w: np.ndarray
    record: dict[str, list[int]] = field(default_factory=dict)  # matches, wins, losses, draws

    def matrix(self, match_weights: np.ndarray | None = None) -> np.ndarray:
        """[i, j] = how often i beat j, each match counted `match_weights[m]` times (default once)."""
        n = len(self.variants)
        w = self.w if match_weights is None else self.w * match_weights[self.m]
        return np.bincount(self.i * n + self.j, weights=w, minlength=n * n).reshape(n, n).astype(float)

    def without(self, drop: set[int]) -> np.ndarray:
        weights = np.ones(len(self.match_ids))
        weights[list(drop)] = 0
        return self.matrix(weights)


def comparisons(store: Store, *, role: str = "player", family: str = ALL_FAMILIES,
                tournament_id: str | None = None, skip: Container[str] = ()) -> Comparisons:
    """`skip`: match ids left out (a tournament's matches outside its current definition)."""
    keep = None
    if tournament_id is not None:
        keep = {r[0] for r in store.db.execute("SELECT id FROM matches WHERE tournament_id=?", (tournament_id,))}
    index: dict[str, int] = {}
    match_index: dict[str, int] = {}
    rows: list[tuple[int, int, int, float]] = []
    record: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for match_id, _, rs in store.iter_ranked_sets(role=role, family=None if family == ALL_FAMILIES else family):
        if not rs.rated or match_id in skip or (keep is not None and match_id not in keep):
            continue
        place = seat_summary(rs)
        if len(place) < 2:
            continue
        m = match_index.setdefault(match_id, len(match_index))
        names = sorted(place)
        top = min(place.values())
        n_top = sum(1 for p in place.values() if p == top)
        for a in names:
            ia = index.setdefault(a, len(index))
            rec = record[a]
            rec[0] += 1
            rec[1 if place[a] == top and n_top == 1 else 3 if place[a] == top else 2] += 1
            for b in names:
                if a == b:
                    continue
                ib = index.setdefault(b, len(index))
                if place[a] < place[b]:
                    rows.append((m, ia, ib, 1.0))
                elif place[a] == place[b] and a < b:  # a tie: half a win each way, once per pair
                    rows.append((m, ia, ib, 0.5))
                    rows.append((m, ib, ia, 0.5))
    arr = np.array(rows, dtype=float).reshape(-1, 4)
    return Comparisons(variants=sorted(index, key=index.__getitem__), match_ids=sorted(match_index, key=match_index.__getitem__),
                       m=arr[:, 0].astype(int), i=arr[:, 1].astype(int), j=arr[:, 2].astype(int), w=arr[:, 3],
                       record=dict(record))


def strengths(matrix: np.ndarray) -> np.ndarray:
    """Centred log-strengths from a win matrix (choix's ILSR)."""
    return choix.ilsr_pairwise_dense(matrix, alpha=ALPHA, max_iter=1000)


def bootstrap_strengths(comps: Comparisons, bootstrap: int, seed: int) -> np.ndarray:
    """(bootstrap x variants) strengths, each fitted on the matches resampled with replacement."""
    rng = np.random.default_rng(seed)
    n_matches = len(comps.match_ids)
    out = np.empty((bootstrap, len(comps.variants)))
    for b in range(bootstrap):
        counts = np.bincount(rng.integers(0, n_matches, n_matches), minlength=n_matches)
        out[b] = strengths(comps.matrix(counts))
    return out


def interval(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 95% percentile interval of bootstrap samples (along the first axis)."""
    tail = (1 - LEVEL) / 2 * 100
    lo, hi = np.percentile(samples, [tail, 100 - tail], axis=0)
    return lo, hi


def fit(store: Store, *, role: str = "player", family: str = ALL_FAMILIES, tournament_id: str | None = None,
        bootstrap: int = 1000, seed: int = 0, skip: Container[str] = ()) -> list[BTRating]:
    comps = comparisons(store, role=role, family=family, tournament_id=tournament_id, skip=skip)
    return fit_comparisons(comps, role=role, family=family, bootstrap=bootstrap, seed=seed)


def fit_comparisons(comps: Comparisons, *, role: str, family: str, bootstrap: int = 1000, seed: int = 0
                    ) -> list[BTRating]:
    if len(comps.variants) < 2:
        return []
    point = strengths(comps.matrix())
    lo, hi = interval(bootstrap_strengths(comps, bootstrap, seed)) if bootstrap else (point, point)
    out = [BTRating(v, role, family, float(point[k]), float(lo[k]), float(hi[k]), *comps.record[v])
           for k, v in enumerate(comps.variants)]
    return sorted(out, key=lambda r: (-r.strength, r.variant))


def win_probability(store: Store, a: str, b: str, *, role: str = "player", family: str = ALL_FAMILIES,
                    tournament_id: str | None = None, bootstrap: int = 1000, seed: int = 0
                    ) -> tuple[float, float, float] | None:
    """P(a beats b) and its bootstrap interval; None when either has no comparisons."""
    comps = comparisons(store, role=role, family=family, tournament_id=tournament_id)
    if a not in comps.variants or b not in comps.variants:
        return None
    ia, ib = comps.variants.index(a), comps.variants.index(b)
    p = float(p_beats(strengths(comps.matrix()), ia, ib))
    if not bootstrap:
        return p, p, p
    lo, hi = interval(p_beats(bootstrap_strengths(comps, bootstrap, seed), ia, ib))
    return p, float(lo), float(hi)


def p_beats(s: np.ndarray, ia: int, ib: int) -> np.ndarray:
    """P(variant ia beats ib) from strengths `s` (one fit, or bootstrap x variants)."""
    return 1 / (1 + np.exp(s[..., ib] - s[..., ia]))


def head_to_head(store: Store, a: str, b: str, *, role: str = "player", family: str = ALL_FAMILIES,
                 tournament_id: str | None = None) -> HeadToHead:
    comps = comparisons(store, role=role, family=family, tournament_id=tournament_id)
    return head_to_head_of(comps, a, b)


def head_to_head_of(comps: Comparisons, a: str, b: str) -> HeadToHead:
    net: dict[int, float] = defaultdict(float)
    if a in comps.variants and b in comps.variants:
        ia, ib = comps.variants.index(a), comps.variants.index(b)
        for m, i, j, w in zip(comps.m, comps.i, comps.j, comps.w):
            if (i, j) == (ia, ib):
                net[int(m)] += w
            elif (i, j) == (ib, ia):
                net[int(m)] -= w
    wins = sum(1 for x in net.values() if x > 1e-9)
    losses = sum(1 for x in net.values() if x < -1e-9)
    draws = len(net) - wins - losses
    lo, hi = wilson(wins, wins + losses)
    return HeadToHead(a, b, wins, losses, draws, len(net), lo, hi)


def wilson(successes: int, trials: int, level: float = LEVEL) -> tuple[float, float]:
    if not trials:
        return 0.0, 1.0
    ci = binomtest(successes, trials).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)
