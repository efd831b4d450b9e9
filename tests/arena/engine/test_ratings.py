"""TrueSkill updates checked against values computed by hand from the TrueSkill paper's
two-player formulas (not by calling the trueskill package)."""
import math

import pytest

from arena.engine.ratings import BETA, DRAW_PROBABILITY, MU, SIGMA, TAU, RatingBook, replay, win_probability
from arena.records import Entry, RankedSet, Rating


def _phi(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _cdf(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _inv_cdf(p):
    lo, hi = -10.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


def hand_1v1(draw: bool):
    """New (mu, sigma) of winner and loser for two fresh players (Herbrich et al. 2007)."""
    sig2 = SIGMA ** 2 + TAU ** 2  # dynamics factor applied first
    c = math.sqrt(2 * BETA ** 2 + 2 * sig2)
    eps = _inv_cdf((DRAW_PROBABILITY + 1) / 2) * math.sqrt(2) * BETA
    t, e = 0.0, eps / c
    if not draw:
        denom = _cdf(t - e)
        v = _phi(t - e) / denom
        w = v * (v + t - e)
    else:
        denom = _cdf(e - t) - _cdf(-e - t)
        v = (_phi(-e - t) - _phi(e - t)) / denom
        w = v ** 2 + ((e - t) * _phi(e - t) + (e + t) * _phi(e + t)) / denom
    mu_w = MU + sig2 / c * v
    mu_l = MU - sig2 / c * v
    sigma = math.sqrt(sig2 * (1 - sig2 / c ** 2 * w))
    return (mu_w, sigma), (mu_l, sigma)


def _set(*pairs, role="player"):
    return RankedSet(role, [{"role": "user", "content": "x"}], [Entry(v, "", r) for v, r in pairs])


def test_win_matches_hand_computation():
    book = RatingBook()
    book.apply("chess", _set(("a", 0), ("b", 1)))
    (mw, sw), (ml, sl) = hand_1v1(draw=False)
    a, b = book.get("a", "player", "chess"), book.get("b", "player", "chess")
    assert a.mu == pytest.approx(mw, abs=1e-3) and a.sigma == pytest.approx(sw, abs=1e-3)
    assert b.mu == pytest.approx(ml, abs=1e-3) and b.sigma == pytest.approx(sl, abs=1e-3)
    assert mw == pytest.approx(29.396, abs=0.01)  # the well-known value for default settings


def test_draw_matches_hand_computation_and_keeps_means():
    book = RatingBook()
    book.apply("chess", _set(("a", 0), ("b", 0)))
    (mw, sw), _ = hand_1v1(draw=True)
    a = book.get("a", "player", "chess")
    assert a.mu == pytest.approx(MU, abs=1e-6) and mw == pytest.approx(MU, abs=1e-6)
    assert a.sigma == pytest.approx(sw, abs=1e-3)
    rec = {r.variant: r for r in book.all() if r.family == "chess"}
    assert (rec["a"].draws, rec["b"].draws) == (1, 1)


def test_multi_player_with_ties_orders_means_and_counts_records():
    book = RatingBook()
    book.apply("social", _set(("a", 0), ("b", 1), ("c", 1), ("d", 2)))
    mus = {v: book.get(v, "player", "social").mu for v in "abcd"}
    assert mus["a"] > mus["b"] > mus["d"]
    assert mus["b"] == pytest.approx(mus["c"], abs=0.05)  # tied: equal up to the factor graph's iteration
    rec = {r.variant: r for r in book.all() if r.family == "social"}
    assert rec["a"].wins == 1 and rec["d"].losses == 1 and rec["b"].losses == 1


def test_ratings_per_role_family_and_overall():
    book = RatingBook()
    book.apply("chess", _set(("a", 0), ("b", 1)))
    book.apply("trivia", _set(("b", 0), ("a", 1), role="author"))
    keys = {(r.variant, r.role, r.family) for r in book.all()}
    assert ("a", "player", "chess") in keys and ("a", "player", "*") in keys
    assert ("b", "author", "trivia") in keys and ("b", "author", "*") in keys
    assert ("a", "author", "chess") not in keys


def test_unrated_sets_and_single_variant_sets_do_not_move_ratings():
    book = RatingBook()
    unrated = _set(("a", 0), ("b", 1))
    unrated.rated = False
    book.apply("x", unrated)
    book.apply("x", _set(("a", 0), ("a", 1)))
    assert book.all() == []


def test_replay_is_order_faithful_and_win_probability_is_sane():
    sets = [("m1", "chess", _set(("a", 0), ("b", 1))), ("m2", "chess", _set(("a", 0), ("b", 1)))]
    book, history = replay(sets)
    assert len(history) == 2 * 2 * 2  # 2 matches x 2 variants x (family, overall)
    a = Rating("a", "player", "*", book.get("a", "player", "*").mu, book.get("a", "player", "*").sigma)
    b = Rating("b", "player", "*", book.get("b", "player", "*").mu, book.get("b", "player", "*").sigma)
    p = win_probability(a, b)
    assert 0.5 < p < 1 and win_probability(b, a) == pytest.approx(1 - p)
    assert win_probability(a, a) == pytest.approx(0.5)
