"""The two-player fast path of RatingBook gives TrueSkill's own answer."""
import random

from arena.engine.ratings import RatingBook, environment
from arena.records import PLAYER, Entry, RankedSet


def test_two_player_update_equals_the_factor_graph():
    env = environment()
    book = RatingBook()
    rng = random.Random(5)
    for _ in range(2000):
        a = env.create_rating(rng.uniform(-10, 60), rng.uniform(0.3, 9))
        b = env.create_rating(rng.uniform(-10, 60), rng.uniform(0.3, 9))
        draw = rng.random() < 0.3
        (x,), (y,) = env.rate([(a,), (b,)], ranks=[0, 0] if draw else [0, 1])
        (fx,), (fy,) = book._rate_two(a, b, draw=draw)
        for want, got in ((x.mu, fx.mu), (y.mu, fy.mu), (x.sigma, fx.sigma), (y.sigma, fy.sigma)):
            assert abs(want - got) < 1e-9


def test_a_book_of_two_player_games_matches_one_rated_by_trueskill_itself():
    env = environment()
    book = RatingBook()
    truth = {"a": env.create_rating(), "b": env.create_rating(), "c": env.create_rating()}
    rng = random.Random(9)
    for _ in range(300):
        p, q = rng.sample(sorted(truth), 2)
        ranks = rng.choice([(0, 1), (1, 0), (0, 0)])
        book.apply("chess", RankedSet(PLAYER, [], [Entry(p, "", ranks[0]), Entry(q, "", ranks[1])]))
        order = sorted([(ranks[0], p), (ranks[1], q)])
        (r1,), (r2,) = env.rate([(truth[order[0][1]],), (truth[order[1][1]],)], ranks=[order[0][0], order[1][0]])
        truth[order[0][1]], truth[order[1][1]] = r1, r2
    for name, r in truth.items():
        mine = book.get(name, PLAYER, "chess")
        assert abs(mine.mu - r.mu) < 1e-8 and abs(mine.sigma - r.sigma) < 1e-8
