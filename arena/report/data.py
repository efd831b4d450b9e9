"""The numbers of a report, read from a run's store: one function per section, each returning
plain rows (dicts) that figures.py draws and page.py tables. Everything can be limited to one
tournament of the store; nothing here writes.

The measures themselves come from where the commands get them (engine ratings, the referees'
bias and accuracy counts, training's diversity): this module only selects and groups.
"""
from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from arena.engine.ratings import replay, seat_summary
from arena.records import ALL_FAMILIES, META_REFEREE, PLAYER, REFEREE, RankedSet, Rating

if TYPE_CHECKING:
    from arena.engine.store import Store

Z95 = 1.959964  # a TrueSkill interval: mu +- 1.96 sigma
GENERATION = re.compile(r"^(?P<base>.+)-g(?P<gen>[1-9][0-9]*)$")  # names arena/training/loop.py gives


class Source:
    """A store, or one tournament of it. Has the `iter_ranked_sets` of a Store, so the training
    layer's per-variant measures (diversity) read the same selection."""

    def __init__(self, store: Store, tournament_id: str | None = None):
        self.store, self.tournament_id = store, tournament_id
        self._ratings: list[Rating] | None = None

    def _where(self, alias: str = "m") -> tuple[str, tuple[Any, ...]]:
        if self.tournament_id is None:
            return "", ()
        return f" AND {alias}.tournament_id=?", (self.tournament_id,)

    def iter_ranked_sets(self, role: str | None = None, family: str | None = None
                         ) -> Iterator[tuple[str, str, RankedSet]]:
        ids = self._match_ids()
        for mid, fam, rs in self.store.iter_ranked_sets(role=role, family=family):
            if ids is None or mid in ids:
                yield mid, fam, rs

    def _match_ids(self) -> set[str] | None:
        if self.tournament_id is None:
            return None
        return {r[0] for r in self.store.db.execute("SELECT id FROM matches WHERE tournament_id=?",
                                                    (self.tournament_id,))}

    def details(self) -> Iterator[dict[str, Any]]:
        """The stored details of finished matches (panels, accuracy counts, self-similarity)."""
        where, args = self._where()
        for (raw,) in self.store.db.execute(
                f"SELECT details FROM matches m WHERE status='finished' AND details IS NOT NULL{where}", args):
            d = json.loads(raw)
            if isinstance(d, dict):
                yield d

    def ratings(self) -> list[Rating]:
        """TrueSkill ratings: the stored ones for the whole store, replayed for one tournament."""
        if self._ratings is None:
            if self.tournament_id is None:
                self._ratings = self.store.ratings()
            else:
                book, _ = replay(self.iter_ranked_sets())
                self._ratings = book.all()
        return self._ratings


# -- leaderboard ---------------------------------------------------------------------------
def leaderboard(src: Source, bootstrap: int = 200, seed: int = 0) -> tuple[str, list[dict[str, Any]]]:
    """(method, rows): per role x family, each variant's rating with a 95% interval. Bradley-Terry
    with bootstrap intervals where arena.engine.bradley_terry is installed, else TrueSkill mu +- 1.96
    sigma. Rows: role, family, variant, rating, lo, hi, matches, wins, losses, draws."""
    combos = sorted({(r.role, r.family) for r in src.ratings()}, key=_combo_order)
    try:
        from arena.engine import bradley_terry
    except ImportError:
        bradley_terry = None
    rows: list[dict[str, Any]] = []
    if bradley_terry is not None:
        for role, family in combos:
            for b in bradley_terry.fit(src.store, role=role, family=family, tournament_id=src.tournament_id,
                                       bootstrap=bootstrap, seed=seed):
                rows.append({"role": role, "family": family, "variant": b.variant, "rating": b.strength,
                             "lo": b.lo, "hi": b.hi, "matches": b.matches, "wins": b.wins, "losses": b.losses,
                             "draws": b.draws})
        return ("Bradley-Terry strength (natural log, field mean 0; P(a beats b) = 1 / (1 + e^(b - a))), "
                f"bootstrap 95% interval over matches ({bootstrap} resamples)"), _sorted(rows)
    for r in src.ratings():
        rows.append({"role": r.role, "family": r.family, "variant": r.variant, "rating": r.mu,
                     "lo": r.mu - Z95 * r.sigma, "hi": r.mu + Z95 * r.sigma, "matches": r.matches, "wins": r.wins,
                     "losses": r.losses, "draws": r.draws})
    return "TrueSkill mu, 95% interval mu ± 1.96 sigma", _sorted(rows)


def _combo_order(combo: tuple[str, str]) -> tuple[int, str, int, str]:
    role, family = combo
    order = {PLAYER: 0, "author": 1, REFEREE: 2, META_REFEREE: 3}
    return order.get(role, 9), role, family != ALL_FAMILIES, family


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (_combo_order((r["role"], r["family"])), -r["rating"], r["variant"]))


# -- generations ---------------------------------------------------------------------------
def generation_of(variant: str, known: set[str]) -> tuple[str, int]:
    """(lineage, generation): "smol-g2" is generation 2 of "smol" when "smol" is known too (a loop's
    base plays in every generation's tournament); any other name is generation 0 of itself."""
    m = GENERATION.match(variant)
    if m and m["base"] in known:
        return m["base"], int(m["gen"])
    return variant, 0


def lineages(variants: set[str]) -> dict[str, dict[int, str]]:
    """{lineage: {generation: variant}} for every lineage with a trained generation."""
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for v in variants:
        base, gen = generation_of(v, variants)
        out[base][gen] = v
    return {b: dict(sorted(g.items())) for b, g in sorted(out.items()) if any(k > 0 for k in g)}


def generations(board: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The leaderboard's player rows over all families, by lineage and generation."""
    rows = [r for r in board if r["role"] == PLAYER and r["family"] == ALL_FAMILIES]
    by_variant = {r["variant"]: r for r in rows}
    out = []
    for base, gens in lineages(set(by_variant)).items():
        for gen, variant in gens.items():
            out.append({"lineage": base, "generation": gen, **by_variant[variant]})
    return out


# -- head to head --------------------------------------------------------------------------
def head_to_head(src: Source) -> list[dict[str, Any]]:
    """Per ordered pair of players over every match outcome: wins, losses, draws and the win share
    (ties as half a win). Rows: a, b, wins, losses, draws, n, share."""
    record: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for _, _, rs in src.iter_ranked_sets(role=PLAYER):
        if rs.criterion != "outcome" or not rs.rated:
            continue
        place = seat_summary(rs)
        for a in place:
            for b in place:
                if a != b:
                    rec = record[(a, b)]
                    rec[0 if place[a] < place[b] else 1 if place[a] > place[b] else 2] += 1
    rows = []
    for (a, b), (w, l, d) in sorted(record.items()):
        n = w + l + d
        rows.append({"a": a, "b": b, "wins": w, "losses": l, "draws": d, "n": n, "share": (w + d / 2) / n})
    return rows


# -- referees ------------------------------------------------------------------------------
def referees(src: Source) -> list[dict[str, Any]]:
    """What `arena referees` shows (referees/report.py), for the store or one tournament."""
    from referees.report import referee_table
    if src.tournament_id is None:
        return referee_table(src.store, roles=(REFEREE, META_REFEREE))
    # One tournament: the same counts from its matches only.
    from referees.accuracy import KEY, merge
    from referees.bias import bias_stats
    details = list(src.details())
    bias = bias_stats(details)
    acc: dict[str, list[int]] = {}
    for d in details:
        merge(acc, d.get(KEY))
    ratings = {(r.variant, r.role): r for r in src.ratings() if r.family == ALL_FAMILIES}
    keys = {k for k in set(bias) | {(v, REFEREE) for v in acc} | set(ratings) if k[1] in (REFEREE, META_REFEREE)}
    rows = []
    for variant, role in sorted(keys):
        r, b = ratings.get((variant, role)), bias.get((variant, role))
        correct, total = acc.get(variant, [0, 0]) if role == REFEREE else (0, 0)
        rows.append({"variant": variant, "role": role, "mu": r.mu if r else None,
                     "matches": r.matches if r else 0,
                     "accuracy": round(correct / total, 4) if total else None, "accuracy_n": total,
                     "position_bias": b.position_bias if b else None, "length_bias": b.length_bias if b else None,
                     "self_preference": b.self_preference if b else None, "self_n": b.self_decisive if b else 0,
                     "verdicts": b.verdicts if b else 0, "ties": b.ties if b else 0,
                     "missing": b.missing if b else 0, "missing_rate": b.missing_rate if b else None})
    return rows


# -- scores --------------------------------------------------------------------------------
def scores(src: Source) -> dict[tuple[str, str], list[tuple[float, str, str]]]:
    """{(family, role): [(score, variant, text)]} over every scored entry of the stored ranked sets."""
    out: dict[tuple[str, str], list[tuple[float, str, str]]] = defaultdict(list)
    for _, family, rs in src.iter_ranked_sets():
        for e in rs.entries:
            if isinstance(e.score, (int, float)) and math.isfinite(e.score):
                out[(family, rs.role)].append((float(e.score), e.variant, e.text if rs.exportable else ""))
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0], _combo_order((kv[0][1], "")))))


def score_rows(groups: dict[tuple[str, str], list[tuple[float, str, str]]]) -> list[dict[str, Any]]:
    rows = []
    for (family, role), values in groups.items():
        xs = sorted(v[0] for v in values)
        best = max(values, key=lambda v: v[0])
        rows.append({"family": family, "role": role, "n": len(xs), "mean": sum(xs) / len(xs), "min": xs[0],
                     "median": xs[len(xs) // 2], "max": xs[-1], "best": best[1], "best_text": best[2]})
    return rows


# -- diversity -----------------------------------------------------------------------------
def diversity(src: Source) -> list[dict[str, Any]]:
    """Per variant: training's diversity of its generations (1 = never repeats another entry of a
    set) and, where a family stored details["self_similarity"][variant], the mean of those.
    Rows: variant, lineage, generation, diversity, self_similarity, self_n."""
    from arena.training.diversity import variant_diversity
    div = variant_diversity(src)
    selfsim: dict[str, list[float]] = defaultdict(list)
    for d in src.details():
        sims = d.get("self_similarity")
        if isinstance(sims, dict):
            for variant, value in sims.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    selfsim[str(variant)].append(float(value))
    names = set(div) | set(selfsim)
    rows = []
    for v in names:
        base, gen = generation_of(v, names)
        sims = selfsim.get(v, [])
        rows.append({"variant": v, "lineage": base, "generation": gen, "diversity": div.get(v),
                     "self_similarity": sum(sims) / len(sims) if sims else None, "self_n": len(sims)})
    return sorted(rows, key=lambda r: (r["lineage"], r["generation"], r["variant"]))


# -- usage ---------------------------------------------------------------------------------
def usage(src: Source) -> list[dict[str, Any]]:
    """Per variant and role, summed over the selected tournaments: answered calls (cached
    included), cached and failed calls, and the tokens and cost of the calls a backend answered.
    From the store's usage counts (they keep the calls of failed matches replayed since)."""
    total: dict[tuple[str, str], dict[str, Any]] = {}
    if hasattr(src.store, "usage"):
        stored = src.store.usage(src.tournament_id)
    else:  # a store module from before the usage counts: the same sums from the calls table
        where, args = src._where()
        stored = [dict(zip(("variant", "role", "calls", "cached", "errors", "input_tokens", "output_tokens",
                            "cost_usd"), r)) for r in src.store.db.execute(
            "SELECT c.variant, c.role, SUM(c.error IS NULL), SUM(c.error IS NULL AND c.cached), "
            "SUM(c.error IS NOT NULL), TOTAL(c.input_tokens), TOTAL(c.output_tokens), TOTAL(c.cost_usd) "
            f"FROM calls c JOIN matches m ON m.id = c.match_id WHERE 1=1{where} GROUP BY 1, 2", args)]
    for r in stored:
        row = total.setdefault((r["variant"], r["role"]), {"variant": r["variant"], "role": r["role"], "calls": 0,
                                                           "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0,
                                                           "cached": 0, "failed": 0})
        for key, mine in (("calls", "calls"), ("input_tokens", "input_tokens"), ("output_tokens", "output_tokens"),
                          ("cost_usd", "cost_usd"), ("cached", "cached"), ("errors", "failed")):
            row[mine] += r[key] or 0
    rows = [{**r, "input_tokens": int(r["input_tokens"]), "output_tokens": int(r["output_tokens"])}
            for r in total.values()]
    return sorted(rows, key=lambda r: (-(r["input_tokens"] + r["output_tokens"]), r["variant"], r["role"]))
