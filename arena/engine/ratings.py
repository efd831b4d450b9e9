"""TrueSkill ratings per variant x role x family, and per variant x role over all families.

Ratings are replayed from the stored ranked sets in schedule order, so an interrupted
and resumed tournament ends with exactly the ratings of an uninterrupted one, whatever
order the matches happened to finish in.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator

import trueskill

from arena.records import ALL_FAMILIES, Entry, RankedSet, Rating

MU, SIGMA = 25.0, 25.0 / 3
BETA, TAU = SIGMA / 2, SIGMA / 100
DRAW_PROBABILITY = 0.10


def environment() -> trueskill.TrueSkill:
    return trueskill.TrueSkill(mu=MU, sigma=SIGMA, beta=BETA, tau=TAU, draw_probability=DRAW_PROBABILITY,
                               backend=None)


Key = tuple[str, str, str]  # variant, role, family


def seat_summary(ranked: RankedSet) -> dict[str, int]:
    """Each variant's place in a ranked set (0 best, ties equal), from all of its entries.

    A variant with several entries (its k samples of one prompt) is placed by their mean: the mean
    score where every entry has one, else the mean rank. So a variant that answers well on average
    beats one whose single lucky sample came first, and k samples move a rating as one match does."""
    by_variant: dict[str, list[Entry]] = defaultdict(list)
    for e in ranked.entries:
        by_variant[e.variant].append(e)
    if all(len(es) == 1 for es in by_variant.values()):
        return {v: es[0].rank for v, es in by_variant.items()}
    scored = all(e.score is not None for e in ranked.entries)
    # Higher is better in `key`; rounded so float noise does not split a tie.
    key = {v: round(sum(e.score for e in es) / len(es) if scored else -sum(e.rank for e in es) / len(es), 9)
           for v, es in by_variant.items()}
    levels = sorted(set(key.values()), reverse=True)
    return {v: levels.index(k) for v, k in key.items()}


class RatingBook:
    def __init__(self) -> None:
        self.env = environment()
        self.ratings: dict[Key, trueskill.Rating] = {}
        self.record: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # matches, wins, losses, draws
        self._draw_margin: float | None = None

    def get(self, variant: str, role: str, family: str) -> trueskill.Rating:
        return self.ratings.get((variant, role, family)) or self.env.create_rating()

    def apply(self, family: str, ranked: RankedSet) -> list[tuple[str, str, str, float, float]]:
        """Update from one ranked set; returns (variant, role, family, mu, sigma) rows for the history."""
        if not ranked.rated:
            return []
        best = seat_summary(ranked)
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
            if len(groups) == 2:
                new = self._rate_two(groups[0][0], groups[1][0], draw=ranks[0] == ranks[1])
            else:
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

    def _rate_two(self, first: trueskill.Rating, second: trueskill.Rating, draw: bool
                  ) -> list[tuple[trueskill.Rating]]:
        """TrueSkill's update for two players, `first` ranked ahead (or level), in closed form.

        The same arithmetic the factor graph of env.rate() does for two teams of one (with
        the env's own v/w functions), to ~1e-12, at a twentieth of the cost: the ratings
        replay at the end of a run is otherwise the slowest step of a large tournament."""
        env = self.env
        if self._draw_margin is None:
            self._draw_margin = trueskill.calc_draw_margin(env.draw_probability, 2, env)
        var1, var2 = first.sigma ** 2 + env.tau ** 2, second.sigma ** 2 + env.tau ** 2
        c2 = 2 * env.beta ** 2 + var1 + var2
        c = math.sqrt(c2)
        t, eps = (first.mu - second.mu) / c, self._draw_margin / c
        v, w = (env.v_draw(t, eps), env.w_draw(t, eps)) if draw else (env.v_win(t, eps), env.w_win(t, eps))
        return [(env.create_rating(first.mu + var1 / c * v, math.sqrt(var1 * (1 - var1 / c2 * w))),),
                (env.create_rating(second.mu - var2 / c * v, math.sqrt(var2 * (1 - var2 / c2 * w))),)]

    def all(self) -> list[Rating]:
        out = []
        for k, r in self.ratings.items():
            m, w, l, d = self.record[k]
            out.append(Rating(k[0], k[1], k[2], r.mu, r.sigma, m, w, l, d))
        return sorted(out, key=lambda x: (x.role, x.family, -x.conservative))


def replay(sets: Iterable[tuple[str, str, RankedSet]]) -> tuple[RatingBook, list[tuple[str, str, str, str, float, float]]]:
    """Ratings from (match_id, family, ranked set) in order, with the full history."""
    book = RatingBook()
    history = list(replay_rows(sets, book))
    return book, history


def replay_rows(sets: Iterable[tuple[str, str, RankedSet]], book: RatingBook
                ) -> Iterator[tuple[str, str, str, str, float, float]]:
    """The history rows of `replay`, lazily: a large run's history is streamed to the store,
    not held in memory (4 rows per two-player match). `book` holds the ratings once consumed."""
    for match_id, family, rs in sets:
        for row in book.apply(family, rs):
            yield (match_id, *row)


def win_probability(a: Rating, b: Rating, beta: float = BETA) -> float:
    """P(a beats b) under TrueSkill's performance model."""
    denom = math.sqrt(2 * beta * beta + a.sigma ** 2 + b.sigma ** 2)
    return 0.5 * (1 + math.erf((a.mu - b.mu) / (denom * math.sqrt(2))))
