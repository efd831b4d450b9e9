"""TrueSkill ratings per variant x role x family, and per variant x role over all families.

Ratings are replayed from the stored ranked sets in schedule order, so an interrupted
and resumed tournament ends with exactly the ratings of an uninterrupted one, whatever
order the matches happened to finish in.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

import trueskill

from arena.records import ALL_FAMILIES, RankedSet, Rating

MU, SIGMA = 25.0, 25.0 / 3
BETA, TAU = SIGMA / 2, SIGMA / 100
DRAW_PROBABILITY = 0.10


def environment() -> trueskill.TrueSkill:
    return trueskill.TrueSkill(mu=MU, sigma=SIGMA, beta=BETA, tau=TAU, draw_probability=DRAW_PROBABILITY,
                               backend=None)


Key = tuple[str, str, str]  # variant, role, family


class RatingBook:
    def __init__(self) -> None:
        self.env = environment()
        self.ratings: dict[Key, trueskill.Rating] = {}
        self.record: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # matches, wins, losses, draws

    def get(self, variant: str, role: str, family: str) -> trueskill.Rating:
        return self.ratings.get((variant, role, family)) or self.env.create_rating()

    def apply(self, family: str, ranked: RankedSet) -> list[tuple[str, str, str, float, float]]:
        """Update from one ranked set; returns (variant, role, family, mu, sigma) rows for the history."""
        if not ranked.rated:
            return []
        best: dict[str, int] = {}
        for e in ranked.entries:  # a variant appearing twice counts once, at its best rank
            best[e.variant] = min(e.rank, best.get(e.variant, e.rank))
        if len(best) < 2:
            return []
        names = sorted(best, key=lambda n: (best[n], n))
        ranks = [best[n] for n in names]
        top = min(ranks)
        n_top = ranks.count(top)
        rows = []
        for fam in (family, ALL_FAMILIES):
            keys = [(n, ranked.role, fam) for n in names]
            groups = [(self.ratings.get(k) or self.env.create_rating(),) for k in keys]
            new = self.env.rate(groups, ranks=ranks)
            for k, (r,), rank in zip(keys, new, ranks):
                self.ratings[k] = r
                rec = self.record[k]
                rec[0] += 1
                if rank == top and n_top == 1:
                    rec[1] += 1
                elif rank == top:
                    rec[3] += 1
                else:
                    rec[2] += 1
                rows.append((k[0], k[1], k[2], r.mu, r.sigma))
        return rows

    def all(self) -> list[Rating]:
        out = []
        for k, r in self.ratings.items():
            m, w, l, d = self.record[k]
            out.append(Rating(k[0], k[1], k[2], r.mu, r.sigma, m, w, l, d))
        return sorted(out, key=lambda x: (x.role, x.family, -x.conservative))


def replay(sets: Iterable[tuple[str, str, RankedSet]]) -> tuple[RatingBook, list[tuple[str, str, str, str, float, float]]]:
    """Ratings from (match_id, family, ranked set) in order, with the full history."""
    book = RatingBook()
    history = []
    for match_id, family, rs in sets:
        history.extend((match_id, *row) for row in book.apply(family, rs))
    return book, history


def win_probability(a: Rating, b: Rating, beta: float = BETA) -> float:
    """P(a beats b) under TrueSkill's performance model."""
    denom = math.sqrt(2 * beta * beta + a.sigma ** 2 + b.sigma ** 2)
    return 0.5 * (1 + math.erf((a.mu - b.mu) / (denom * math.sqrt(2))))
