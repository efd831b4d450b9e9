import asyncio

import pytest

from arena.engine.gateway import CallFailed
from referees.meta import meta_judge, meta_panel
from referees.panel import Candidate, judge
from tests.referees.ctxkit import make_ctx, players, variant

CANDS = [Candidate("p1", "Paris", 0), Candidate("p2", "It is Rome, the capital of Italy", 1)]


def run(coro):
    return asyncio.run(coro)


def ranks(result):
    return [e.rank for e in result.ranked.entries]


def test_first_seat_bias_cancels_into_a_tie():
    ctx = make_ctx(players() + [variant("biased", "constant", text="[[A]]")], referees=("biased",))
    res = run(judge(ctx, role="player", task="Capital of France?", candidates=CANDS, rubric="r"))
    assert ranks(res) == [0, 0]
    assert res.ranked.rated  # a tie is a decided outcome
    assert [v.winner for v in res.judgments[0].verdicts] == ["A", "A"]
    assert [v.first for v in res.judgments[0].verdicts] == ["p1", "p2"]  # both seat orders were asked
    assert {c.role for c in ctx.calls} == {"referee"}


def test_consistent_verdict_in_both_orders_wins():
    ctx = make_ctx(players() + [variant("fair", "script", script=["[[B]]", "[[A]]"])], referees=("fair",))
    res = run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r", criterion="answer"))
    assert ranks(res) == [1, 0]
    assert res.ranked.criterion == "answer" and res.ranked.role == "player"
    assert res.ranked.prompt == [{"role": "user", "content": "q"}]
    assert [e.score for e in res.ranked.entries] == [0.0, 1.0]


def test_unreadable_verdict_is_reasked_once_then_missing_not_a_loss():
    ctx = make_ctx(players() + [variant("mumbler", "constant", text="both are nice")], referees=("mumbler",))
    res = run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r"))
    assert res.missing == 2
    assert len(ctx.calls) == 4  # two orders, each asked and re-asked once
    assert ranks(res) == [0, 0] and not res.ranked.rated  # nothing decided: not a loss, not rated
    assert [f.kind for f in res.failures()] == ["missing-verdict"]
    assert res.judgments[0].missing == 2


def test_reask_recovers_a_verdict():
    ctx = make_ctx(players() + [variant("late", "script", script=["hmm", "[[B]]", "[[A]]"])], referees=("late",))
    res = run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r"))
    assert res.missing == 0
    assert ranks(res) == [0, 1]
    assert [v.reasked for v in res.judgments[0].verdicts] == [True, False]


def test_failed_referee_call_fails_the_match_instead_of_counting_as_missing():
    # (it used to count as a missing verdict: the match finished unjudged and was never replayed)
    ctx = make_ctx(players() + [variant("down", "fail")], referees=("down",))
    with pytest.raises(CallFailed, match="referee down"):
        run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r"))
    assert [c.variant for c in ctx.calls] == ["down", "down"]  # both seat orders were asked, neither re-asked


def test_panel_net_vote_and_agreement():
    refs = [variant("r1", "script", script=["[[B]]", "[[A]]"]), variant("r2", "script", script=["[[B]]", "[[A]]"]),
            variant("r3", "script", script=["[[A]]", "[[B]]"])]
    ctx = make_ctx(players() + refs, referees=("r1", "r2", "r3"))
    res = run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r"))
    assert ranks(res) == [1, 0]
    agree = {j.referee: j.agreement for j in res.judgments}
    assert agree == {"r1": 1.0, "r2": 1.0, "r3": 0.0}
    assert res.ranked.agreement == round(2 / 3, 4)
    assert {j.referee: j.ranks for j in res.judgments}["r3"] == [0, 1]


def test_players_never_judge_their_own_match_unless_allowed():
    refs = [variant("r1", "script", script=["[[B]]", "[[A]]"])]
    ctx = make_ctx(players() + refs, referees=("p1", "p2", "r1"))
    res = run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r"))
    assert res.judges == ["r1"]
    ctx = make_ctx(players() + refs, referees=("p1", "r1"))
    res = run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r", allow_self=True))
    assert res.judges == ["p1", "r1"]
    ctx = make_ctx(players() + refs, referees=("p1", "r1"), options={"allow_self_judging": True})
    assert run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r")).judges == ["p1", "r1"]


def test_default_pool_is_the_other_tournament_players():
    from arena.records import Variant
    from referees.panel import judge_pool
    ctx = make_ctx(players() + [Variant("p4", "openai/gpt-4o-mini")], players=("p1", "p2", "p3", "p4"))
    assert judge_pool(ctx, ["p1", "p2"], None) == ["p4"]  # p3 is scripted: never drawn unless named
    ctx = make_ctx(players())  # nobody outside the match: no referee, nothing rated, said why
    res = run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r"))
    assert res.judges == [] and not res.ranked.rated and "no eligible referee" in res.note


def test_listwise_for_many_candidates_uses_both_presentations():
    cands = [Candidate(f"c{k}", f"answer {k}", k) for k in range(5)]
    # forward shows c0..c4 as A..E, reversed shows c4..c0 as A..E: both readings say c4 > ... > c0
    ref = variant("lister", "script", script=["[[E>D>C>B>A]]", "[[A>B>C>D>E]]"])
    ctx = make_ctx(players() + [ref], referees=("lister",))
    res = run(judge(ctx, role="player", task="q", candidates=cands, rubric="r"))
    assert ranks(res) == [4, 3, 2, 1, 0]
    assert len(ctx.calls) == 2
    assert len(res.judgments[0].verdicts) == 20  # 10 pairs x 2 presentations, kept for bias stats
    biased = variant("fixed", "constant", text="[[A>B>C>D>E]]")
    ctx = make_ctx(players() + [biased], referees=("fixed",))
    assert ranks(run(judge(ctx, role="player", task="q", candidates=cands, rubric="r"))) == [0] * 5


def test_random_referee_gives_readable_verdicts():
    ctx = make_ctx(players() + [variant("rnd", "random")], referees=("rnd",))
    res = run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r"))
    assert res.missing == 0 and all(v.winner in ("A", "B", "TIE") for v in res.judgments[0].verdicts)


def test_meta_ranks_referees_and_never_judges_its_own_ranking():
    refs = [variant("r1", "script", script=["[[B]]", "[[A]]"]), variant("r2", "constant", text="[[A]]")]
    meta = variant("m", "script", script=["[[A]]", "[[B]]"])  # prefers r1 in both orders
    ctx = make_ctx(players() + refs + [meta], referees=("r1", "r2"), meta_referees=("m",))
    panel = run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r"))
    ranked = run(meta_judge(ctx, panel, task="q", rubric="r"))
    assert ranked.role == "referee" and ranked.criterion == "judging"
    assert [(e.variant, e.rank) for e in ranked.entries] == [("r1", 0), ("r2", 1)]
    assert [e.text for e in ranked.entries] == ["[[B]]", "[[A]]"]  # replies to the same judging prompt
    assert ranked.prompt == panel.judgments[0].prompt
    assert [c.role for c in ctx.calls].count("meta-referee") == 2
    # the only meta-referee candidates are the referees themselves: nobody may judge
    ctx = make_ctx(players() + refs, referees=("r1", "r2"))
    panel = run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r"))
    assert run(meta_panel(ctx, panel, task="q", rubric="r", meta_judges=("r1", "r2"))) is None


def test_meta_needs_two_referees_that_decided():
    ctx = make_ctx(players() + [variant("r1", "constant", text="[[A]]"), variant("r2", "constant", text="??"),
                                variant("m", "constant", text="[[A]]")],
                   referees=("r1", "r2"), meta_referees=("m",))
    panel = run(judge(ctx, role="player", task="q", candidates=CANDS, rubric="r"))
    assert run(meta_judge(ctx, panel, task="q", rubric="r")) is None


def test_panel_drawn_from_players_is_capped_and_seeded():
    from arena.records import Variant
    from referees.panel import judge_pool
    many = [Variant(f"x{k}", "openai/gpt-4o-mini") for k in range(5)]  # drawn: not scripted
    names = ("p1", "p2", *(v.name for v in many))
    pick = lambda seed: judge_pool(make_ctx(players() + many, players=names, seed=seed,  # noqa: E731
                                            options={"panel_size": 2}), ["p1", "p2"], None, salt="quality")
    assert len(pick(1)) == 2 and set(pick(1)) <= {v.name for v in many}
    assert pick(1) == pick(1)  # the same match draws the same referees on a re-run
    assert len({tuple(pick(s)) for s in range(8)}) > 1  # different matches, different panels


def test_scripted_players_are_drawn_as_referees_or_authors_only_when_the_config_names_them():
    from arena.records import Variant
    from referees.panel import author_pool, judge_pool
    hosted = [Variant("smart", "openai/gpt-4o-mini"), Variant("smart2", "openai/gpt-4o-mini")]
    field = ("p1", "p2", "p3", "rnd", "smart", "smart2")
    ctx = make_ctx(players() + [variant("rnd", "random")] + hosted, players=field)
    # drawn from the field: the hosted models, never the scripted p3 (constant) or rnd (random)
    assert judge_pool(ctx, ["p1", "p2"], None) == ["smart", "smart2"]
    assert sorted(author_pool(ctx, 2)) == ["smart", "smart2"]
    # named in the role by the config: they judge and write
    assert judge_pool(ctx, ["p1", "p2"], None, default=("rnd",)) == ["rnd"]
    named = make_ctx(players() + [variant("rnd", "random")] + hosted, players=field, authors=("rnd",))
    assert author_pool(named, 2) == ["rnd", "rnd"]
    # a real seat writes the tasks rather than a scripted seat (nobody else is there to write them)
    seated = make_ctx(players() + [variant("rnd", "random")] + hosted, seats=("smart", "rnd"),
                      players=("smart", "rnd"))
    assert author_pool(seated, 2) == ["smart", "smart"]
    # families where every seat writes a task (programming, predict-output): the model seats
    from referees.panel import seat_authors
    assert seat_authors(seated) == ["smart"] and seat_authors(named) == ["rnd"]
    assert seat_authors(make_ctx(players())) == ["p1", "p2"]  # every seat scripted: nobody else can write
