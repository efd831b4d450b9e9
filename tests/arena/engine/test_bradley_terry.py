"""Bradley-Terry fits and intervals on real stores written by real tournaments of players whose
true strengths are known: the `duel` family (registered for these tests only) asks each seat for
its strength (a mock/constant player answers it) and draws the winner with the Bradley-Terry
probability s_a / (s_a + s_b) from the match's own seeded RNG, after a draw with `tie_rate`."""
import math

import numpy as np
import pytest

from arena import plugins
from arena.config import parse_config
from arena.engine.bradley_terry import fit, head_to_head, win_probability
from arena.engine.planning import leader_robustness, matches_needed
from arena.engine.runner import run
from arena.engine.store import Store
from arena.records import PLAYER, Entry, MatchResult, RankedSet


class Duel:
    name, seats, open_ended = "duel", 2, False

    def __init__(self, options):
        self.tie_rate = float(options.get("tie_rate", 0.0))

    async def play(self, ctx):
        prompt = [{"role": "user", "content": "How strong are you?"}]
        answers = [await ctx.ask(v, PLAYER, prompt) for v in ctx.seats]
        s0, s1 = (float(a.text) for a in answers)
        if ctx.rng.random() < self.tie_rate:
            ranks = (0, 0)
        else:
            ranks = (0, 1) if ctx.rng.random() < s0 / (s0 + s1) else (1, 0)
        entries = [Entry(v, a.text, r, seat=k) for k, (v, a, r) in enumerate(zip(ctx.seats, answers, ranks))]
        return MatchResult([RankedSet(PLAYER, prompt, entries, "outcome", exportable=False, ranked_by="rule")],
                           summary=f"{ranks}")


def create_duel(options):
    return Duel(options)


@pytest.fixture(autouse=True)
def duel_family(monkeypatch):
    monkeypatch.setitem(plugins.registered(plugins.FAMILIES), "duel", f"{__name__}:create_duel")


def duel_run(run_dir, strengths: dict[str, float], rounds: int, tie_rate: float = 0.0, seed: int = 7):
    """A round-robin of players of the given true strengths; returns the run directory."""
    cfg = parse_config({
        "tournament": {"families": ["duel"], "players": list(strengths), "rounds": rounds, "seed": seed},
        "families": {"duel": {"tie_rate": tie_rate}},
        "variants": [{"name": n, "model": "mock/constant", "text": str(s)} for n, s in strengths.items()]})
    summary = run(cfg, run_dir)
    assert summary.finished == rounds * len(strengths) * (len(strengths) - 1)
    return run_dir


TRUE = {"weak": 1.0, "mid": 2.0, "strong": 4.0}  # log-strength steps of ln 2: P(mid beats weak) = 2/3


@pytest.fixture(scope="module")
def known_order(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setitem(plugins.registered(plugins.FAMILIES), "duel", f"{__name__}:create_duel")
    try:
        yield (duel_run(tmp_path_factory.mktemp("bt") / "run", TRUE, rounds=60),
               duel_run(tmp_path_factory.mktemp("bt") / "ties", TRUE, rounds=60, tie_rate=0.2))
    finally:
        mp.undo()


def test_intervals_cover_the_true_strengths_and_order(known_order):
    store = Store(known_order[0], create=False)
    ratings = fit(store, role="player", family="duel", bootstrap=400, seed=1)
    assert [r.variant for r in ratings] == ["strong", "mid", "weak"]
    true = {v: math.log(s) for v, s in TRUE.items()}
    centre = sum(true.values()) / len(true)
    for r in ratings:
        assert r.lo <= true[r.variant] - centre <= r.hi, r
        assert r.lo < r.strength < r.hi
        assert r.matches == 240 and r.wins + r.losses == 240 and r.draws == 0
    # the order is resolved: neighbours' intervals do not overlap at 240 matches each
    assert ratings[0].lo > ratings[1].hi or ratings[1].lo > ratings[2].hi
    assert abs(sum(r.strength for r in ratings)) < 1e-6  # centred on the field's mean
    # the same store and seed give the same intervals; another seed other (but close) ones
    again = fit(store, role="player", family="duel", bootstrap=400, seed=1)
    assert [(r.lo, r.hi) for r in again] == [(r.lo, r.hi) for r in ratings]
    store.close()


def test_win_probability_and_head_to_head_with_ties(known_order):
    """A tie is half a win, so what is estimated is the expected score: (1 - t) 4/5 + t/2 = 0.74."""
    store = Store(known_order[1], create=False)
    ratings = fit(store, role="player", family="duel", bootstrap=400, seed=1)
    assert [r.variant for r in ratings] == ["strong", "mid", "weak"]
    assert all(r.wins + r.losses + r.draws == 240 and r.draws > 0 for r in ratings)
    p, lo, hi = win_probability(store, "strong", "weak", role="player", family="duel", bootstrap=400)
    assert lo < 0.74 < hi and lo < p < hi and lo > 0.5
    q, qlo, qhi = win_probability(store, "weak", "strong", role="player", family="duel", bootstrap=400)
    assert q == pytest.approx(1 - p) and qlo == pytest.approx(1 - hi) and qhi == pytest.approx(1 - lo)
    h = head_to_head(store, "strong", "weak", role="player", family="duel")
    assert h.matches == 120 and h.wins + h.losses + h.draws == 120
    assert 0.1 < h.tie_rate < 0.3 and h.lo < 0.8 < h.hi and h.lo > 0.5  # decisive share: true 4/5
    assert win_probability(store, "strong", "ghost", role="player", family="duel") is None
    store.close()


def test_ties_count_half_and_a_k_way_set_becomes_its_pairs(tmp_path):
    store = Store(tmp_path / "run")
    from arena.records import ScheduledMatch
    store.ensure_tournament("t", "t", {}, 2, {v: {} for v in "abc"})
    prompt = [{"role": "user", "content": "x"}]
    sets = [  # a beats b, b ties c, a beats c: one three-way set, then a tie
        [RankedSet(PLAYER, prompt, [Entry("a", "", 0), Entry("b", "", 1), Entry("c", "", 1)])],
        [RankedSet(PLAYER, prompt, [Entry("a", "", 0), Entry("b", "", 0)])],
    ]
    for k, rs in enumerate(sets):
        m = ScheduledMatch(f"m{k}", "t", "f", tuple(e.variant for e in rs[0].entries), 0, 0, k, k)
        store.commit_match(m, MatchResult(rs), [], [], started_at=0.0)
    from arena.engine.bradley_terry import comparisons
    comps = comparisons(store, role=PLAYER, family="f")
    mat = comps.matrix()
    ix = {v: k for k, v in enumerate(comps.variants)}
    assert mat[ix["a"], ix["b"]] == 1.5 and mat[ix["b"], ix["a"]] == 0.5
    assert mat[ix["b"], ix["c"]] == 0.5 == mat[ix["c"], ix["b"]] and mat[ix["a"], ix["c"]] == 1
    assert comps.record["a"] == [2, 1, 0, 1] and comps.record["c"] == [1, 0, 1, 0]
    h = head_to_head(store, "a", "b", role=PLAYER, family="f")
    assert (h.wins, h.losses, h.draws, h.matches) == (1, 0, 1, 2)
    # an undefeated variant stays finite
    assert all(math.isfinite(r.strength) and math.isfinite(r.hi) for r in fit(store, family="f", bootstrap=50))
    # another tournament in the same run directory: counted over the run, left out for one tournament
    store.ensure_tournament("u", "u", {}, 1, {v: {} for v in "ac"})
    later = [RankedSet(PLAYER, prompt, [Entry("c", "", 0), Entry("a", "", 1)])]
    store.commit_match(ScheduledMatch("m9", "u", "f", ("c", "a"), 0, 0, 0, 9), MatchResult(later), [], [],
                       started_at=0.0)
    assert {r.variant: r.wins for r in fit(store, family="f", bootstrap=0)}["c"] == 1
    assert {r.variant: r.wins for r in fit(store, family="f", bootstrap=0, tournament_id="t")}["c"] == 0
    assert {r.variant: r.wins for r in fit(store, family="f", bootstrap=0, skip={"m9"})}["c"] == 0
    store.close()


def test_matches_needed_reproduces_the_design_table():
    assert [matches_needed(p, 0.0) for p in (0.55, 0.60, 0.65, 0.70)] == [384, 96, 43, 24]
    assert matches_needed(0.40, 0.0) == 96  # symmetric
    assert matches_needed(0.60, 0.5) == 192  # half the matches drawn: twice as many
    assert matches_needed(0.60, 0.0, judge_accuracy=0.65) == round(96.04 / 0.09)  # x11
    assert matches_needed(0.5, 0.0) is None and matches_needed(0.7, 0.0, judge_accuracy=0.5) is None


def _simulated_n(p, rng, trials=2000, share=0.5):
    """Smallest n at which at least `share` of simulated head-to-heads (n decisive games at true
    rate p) have a Wilson 95% interval excluding 0.5."""
    z = 1.959963984540054
    for n in range(2, 1000):
        k = rng.binomial(n, p, size=trials)
        phat = k / n
        centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        excludes = (centre - half > 0.5) | (centre + half < 0.5)
        if excludes.mean() >= share:
            return n
    raise AssertionError("no n found")


@pytest.mark.parametrize("p", [0.6, 0.7])
def test_planner_within_a_factor_1_5_of_a_simulation(p):
    simulated = _simulated_n(p, np.random.default_rng(11))
    planned = matches_needed(p, 0.0)
    assert simulated / 1.5 <= planned <= simulated * 1.5, (p, planned, simulated)


def test_leader_robustness_grows_with_the_leaders_margin(tmp_path):
    close = Store(duel_run(tmp_path / "close", {"a": 1.2, "b": 1.0}, rounds=20), create=False)
    far = Store(duel_run(tmp_path / "far", {"a": 9.0, "b": 1.0}, rounds=20), create=False)
    lead_close = leader_robustness(close, family="duel")
    lead_far = leader_robustness(far, family="duel")
    assert lead_far[0] == "a" and lead_far[1] > lead_close[1]
    # dropping that many of the leader's best matches really changes the leader (checked by hand)
    h = head_to_head(far, "a", "b", family="duel")
    assert lead_far[1] <= h.wins
    close.close()
    far.close()
