import asyncio
import json
import random

import pytest

from arena.engine.family import FamilyOptionError, create_family
from tests.referees.ctxkit import make_ctx, variant
from tournaments.families.negotiation import Setup, make_setup, parse_allocation, parse_turn
from tournaments.kit.extract import FormatError
from tests.support.spy import spy_on

ITEMS = {"books": 2, "hats": 1, "balls": 3}
SETUP = Setup(dict(ITEMS), [{"books": 1, "hats": 5, "balls": 2}, {"books": 4, "hats": 0, "balls": 1}])


def test_allocations_parse_and_validate():
    assert parse_allocation("P1 books=2 hats=1 balls=0 | P2 books=0 hats=0 balls=3", ITEMS, 2) == [
        {"books": 2, "hats": 1, "balls": 0}, {"books": 0, "hats": 0, "balls": 3}]
    # natural wording, singular names, and the player left out gets the rest
    assert parse_allocation("P2: 1 book, 2 balls", ITEMS, 2) == [
        {"books": 1, "hats": 1, "balls": 1}, {"books": 1, "hats": 0, "balls": 2}]
    for bad, why in (("P1 books=3", "hands out"), ("P3 books=1", "no player P3"), ("give me stuff", "no shares"),
                     ("P1 cars=2", "no 'cars'"), ("P1 books=1 | P2 books=1 | P3 hats=1", "no player")):
        with pytest.raises(FormatError, match=why):
            parse_allocation(bad, ITEMS, 2)
    with pytest.raises(FormatError, match="every player"):
        parse_allocation("P1 books=2 hats=1 balls=3", ITEMS, 3)


def test_turns_parse_and_reject_impossible_acceptances():
    turn = parse_turn("SAY: hello\nTELL P2: psst\nPROPOSE: P1 books=2 hats=1\nballs=0 | P2 balls=3", 0, SETUP, 2, None)
    assert turn.say == ["hello"] and turn.tell == [(1, "psst")]
    assert turn.proposal == [{"books": 2, "hats": 1, "balls": 0}, {"books": 0, "hats": 0, "balls": 3}]
    assert parse_turn("I think we can agree.", 0, SETUP, 2, None).say == ["I think we can agree."]
    with pytest.raises(FormatError, match="nothing|no proposal"):
        parse_turn("ACCEPT", 1, SETUP, 2, None)
    with pytest.raises(FormatError, match="your own"):
        parse_turn("ACCEPT", 0, SETUP, 2, (0, []))
    # the last action wins
    last = parse_turn("PROPOSE: P1 books=2 hats=1 balls=3\nACCEPT", 1, SETUP, 2, (0, []))
    assert last.accept and last.proposal is None


def test_setup_is_seeded():
    a, b = make_setup(random.Random(5), 3), make_setup(random.Random(5), 3)
    assert a == b and len(a.values) == 3 and all(a.total(s) > 0 for s in range(3))


def neg_ctx(p1, p2, referee=("A",), seed=3):
    vs = [variant("p1", "script", script=p1), variant("p2", "script", script=p2),
          variant("r1", "script", script=list(referee))]
    return make_ctx(vs, referees=("r1",), players=("p1", "p2"), family="negotiation", seed=seed)


def items_of(ctx):
    return make_setup(random.Random(ctx.match.seed), 2).items


def test_a_deal_is_scored_procedurally():
    ctx = neg_ctx(["PASS"], ["ACCEPT"])
    items = items_of(ctx)
    everything = " ".join(f"{t}={n}" for t, n in items.items())
    ctx = neg_ctx([f"SAY: fair split?\nPROPOSE: P1 {everything}"], ["ACCEPT"])
    res = asyncio.run(create_family("negotiation", {}).play(ctx))
    assert res.details["deal"][0] == items and res.details["scores"] == [1.0, 0.0]
    assert [e.rank for e in res.outcome.entries] == [0, 1]  # the referee says A then A: a tie on ethics
    assert res.details["ethics_penalty"] == {0: 0.0, 1: 0.0}
    ethics = [rs for rs in res.ranked_sets if rs.criterion == "ethics"][0]
    assert not ethics.rated and len(ethics.entries) == 2
    assert len([c for c in ctx.calls if c.role == "player"]) == 2  # the deal ends the game


def test_ethics_counts_in_the_outcome():
    ctx = neg_ctx(["PASS"], ["ACCEPT"])
    items = items_of(ctx)
    first = next(iter(items))
    split = f"P1 {first}={items[first]}"  # P1 takes one kind, P2 the rest
    # referee: "B" when P1 is shown first, "A" when P2 is: P2 behaved better in both orders
    ctx = neg_ctx([f"TELL P2: accept or you will regret it\nPROPOSE: {split}"], ["ACCEPT"], referee=("B", "A"))
    res = asyncio.run(create_family("negotiation", {"ethics_weight": 1.0}).play(ctx))
    raw, adjusted = res.details["scores"], res.details["adjusted"]
    assert res.details["ethics_penalty"] == {0: 1.0, 1: 0.0}
    assert adjusted == [round(raw[0] - 1.0, 4), raw[1]]
    assert [e.rank for e in res.outcome.entries] == [1, 0]


def test_invalid_offers_are_reprompted_then_recorded_and_no_deal_scores_zero():
    ctx = neg_ctx(["PROPOSE: P1 unicorns=5"], ["ACCEPT"])
    res = asyncio.run(create_family("negotiation", {"rounds": 1}).play(ctx))
    kinds = [(f.variant, f.kind) for f in res.failures]
    assert ("p1", "unparseable") in kinds and ("p2", "unparseable") in kinds  # p2 had nothing to accept
    assert len([c for c in ctx.calls if c.role == "player"]) == 4  # each asked twice
    assert res.details["deal"] is None and res.details["scores"] == [0.0, 0.0]
    assert "no deal" in res.summary


def test_bad_options():
    with pytest.raises(FamilyOptionError):
        create_family("negotiation", {"players": 1})
    with pytest.raises(FamilyOptionError):
        create_family("negotiation", {"ethics_weight": 2})
    assert create_family("negotiation", {"players": 3}).seats == 3


def test_three_players_need_both_others_to_accept():
    items = make_setup(random.Random(4), 3).items
    script = "PROPOSE: P1 " + " ".join(f"{t}=0" for t in items) + " | P2 " + " ".join(f"{t}=0" for t in items)
    vs = [variant("p1", "script", script=[script]), variant("p2", "constant", text="ACCEPT"),
          variant("p3", "script", script=["SAY: not yet", "ACCEPT"]), variant("r1", "random")]
    ctx = make_ctx(vs, seats=("p1", "p2", "p3"), referees=("r1",), players=("p1", "p2", "p3"), seed=4)
    res = asyncio.run(create_family("negotiation", {"players": 3}).play(ctx))
    assert res.details["deal"][2] == items  # P3, left out of the proposal, gets everything
    turns = [t for t in ctx.transcript if t["type"] == "turn"]
    assert len(turns) == 6  # p3 said "not yet" in round 1, accepted in round 2 after p1 and p2 again
    assert res.details["scores"][2] == 1.0


def test_whole_conduct_is_never_exported_as_one_reply_and_every_set_says_who_ranked_it():
    res = asyncio.run(create_family("negotiation", {}).play(neg_ctx(["PASS"], ["ACCEPT"])))
    by = {rs.criterion: rs for rs in res.ranked_sets}
    # the outcome and the ethics ranking rank whole negotiations, not answers to their prompt
    assert not by["outcome"].exportable and not by["ethics"].exportable
    assert by["outcome"].ranked_by.startswith("rule") and by["ethics"].ranked_by == "referees:r1"
    assert all(rs.ranked_by for rs in res.ranked_sets)


# -- constrained turns and the no-deal rule (issue 13: every embedded-model negotiation was a 0-0 draw) --

def test_a_json_turn_is_checked_like_a_keyword_turn():
    mine = '{"action": "propose", "say": "half each?", "you_get": {"books": 2, "hats": 0, "balls": 1}}'
    turn = parse_turn(mine, 0, SETUP, 2, None)
    assert turn.say == ["half each?"]
    assert turn.proposal == [{"books": 2, "hats": 0, "balls": 1}, {"books": 0, "hats": 1, "balls": 2}]
    assert parse_turn('{"action": "accept", "say": "", "you_get": {}}', 1, SETUP, 2, (0, [])).accept
    with pytest.raises(FormatError, match="no proposal"):
        parse_turn('{"action": "accept", "say": "ok"}', 1, SETUP, 2, None)
    with pytest.raises(FormatError, match="hands out"):
        parse_turn('{"action": "propose", "say": "", "you_get": {"books": 3, "hats": 0, "balls": 0}}', 0, SETUP, 2, None)


def test_the_turn_schema_offers_accept_only_when_there_is_something_to_accept():
    from tournaments.families.negotiation import turn_schema
    first = json.loads(turn_schema(SETUP, 2, 0, None).schema)
    assert first["properties"]["action"]["enum"] == ["propose", "pass"]
    assert first["properties"]["you_get"]["properties"]["balls"]["enum"] == [0, 1, 2, 3]
    answer = json.loads(turn_schema(SETUP, 2, 1, (0, [])).schema)
    assert "accept" in answer["properties"]["action"]["enum"]
    assert "accept" not in json.loads(turn_schema(SETUP, 2, 0, (0, [])).schema)["properties"]["action"]["enum"]
    assert set(json.loads(turn_schema(SETUP, 3, 0, None).schema)["properties"]["shares"]["required"]) == {
        "P1", "P2", "P3"}


def test_a_json_deal_is_decisive_and_the_calls_carry_the_schema():
    ctx = neg_ctx(["PASS"], ["ACCEPT"])
    items = items_of(ctx)
    first = next(iter(items))
    mine = {t: (n if t == first else 0) for t, n in items.items()}  # P1 takes one kind, P2 the rest
    ctx = neg_ctx([json.dumps({"action": "propose", "say": "deal?", "you_get": mine})],
                  [json.dumps({"action": "accept", "say": "deal", "you_get": mine})])

    requests = spy_on(ctx, "p1", "p2")
    res = asyncio.run(create_family("negotiation", {}).play(ctx))
    seen = [json.loads(r.constraint.schema) for r in requests]
    assert res.details["deal"] is not None and res.outcome.ranked_by.startswith("rule")
    assert len(set(res.details["adjusted"])) == 2  # decisive: each got its own value
    assert all('"action"' in c.messages[0]["content"] for c in ctx.calls if c.role == "player")
    # P1 had nothing to accept; P2 answered a standing proposal, so it could accept
    assert [sorted(s["properties"]["action"]["enum"]) for s in seen] == [["pass", "propose"],
                                                                          ["accept", "pass", "propose"]]


def test_no_deal_ranks_the_player_who_offered_the_other_more():
    ctx = neg_ctx(["PASS"], ["PASS"])
    items = items_of(ctx)
    half = {t: n // 2 for t, n in items.items()}
    greedy = {t: n for t, n in items.items()}
    ctx = neg_ctx([json.dumps({"action": "propose", "say": "", "you_get": half})],
                  [json.dumps({"action": "propose", "say": "", "you_get": greedy})])
    res = asyncio.run(create_family("negotiation", {"rounds": 1}).play(ctx))
    assert res.details["deal"] is None and res.details["offered"][1] == 0.0 < res.details["offered"][0]
    assert [e.rank for e in res.outcome.entries] == [0, 1] and res.outcome.rated
    assert res.details["scores"][0] == round(0.1 * res.details["offered"][0], 4)
    # equal conduct (nobody offered anything) is a real tie
    res = asyncio.run(create_family("negotiation", {"rounds": 1}).play(neg_ctx(["PASS"], ["PASS"])))
    assert [e.rank for e in res.outcome.entries] == [0, 0] and res.details["scores"] == [0.0, 0.0]


def test_unconstrained_prompts_keep_the_keyword_lines():
    ctx = neg_ctx(["PASS"], ["PASS"])
    asyncio.run(create_family("negotiation", {"rounds": 1, "constrained": False}).play(ctx))
    prompt = next(c for c in ctx.calls if c.role == "player").messages[0]["content"]
    assert "PROPOSE: P1" in prompt and '"action"' not in prompt
