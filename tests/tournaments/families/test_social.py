import asyncio
import json

import pytest

from arena.engine.family import FamilyOptionError, create_family
from tests.referees.ctxkit import make_ctx, variant
from tournaments.families.social.family import parse_move, parse_number, parse_vote
from tournaments.families.social.spec import FALLBACK_SPECS, GameSpec, parse_spec
from tournaments.kit.extract import FormatError
from tests.support.spy import spy_on

SPEC_LINES = """Here is my game!
TITLE: Harbour Auction
PREMISE: Two traders bargain for the last boat before the storm closes the harbour.
ROLE: Trader | buy the boat cheaply | you can pay at most 8 coins
ROLE: Captain | sell the boat dearly | the boat has a hidden leak
ACTIONS: offer, counter, reveal
TURNS: 2
WIN: the player the other votes for wins
PROCEDURE: vote"""


def spec_with(procedure: str, turns: int = 1) -> str:
    return SPEC_LINES.replace("PROCEDURE: vote", f"PROCEDURE: {procedure}").replace("TURNS: 2", f"TURNS: {turns}")


def test_specs_parse_from_lines_and_json():
    spec = parse_spec(SPEC_LINES)
    assert spec.title == "Harbour Auction" and [r.name for r in spec.roles] == ["Trader", "Captain"]
    assert spec.actions == ["offer", "counter", "reveal"] and spec.turns == 2 and spec.procedure == "vote"
    assert spec.roles[1].private_info == "the boat has a hidden leak"
    again = parse_spec("```json\n" + json.dumps(spec.model_dump()) + "\n```")
    assert again == spec
    assert parse_spec(spec.render()) == spec  # what referees read round-trips


@pytest.mark.parametrize("bad, why", [
    ("", "empty"),
    ("A fun game where everyone wins.", "no game spec"),
    (SPEC_LINES.replace("TURNS: 2", "TURNS: 40"), "turns"),
    (SPEC_LINES.replace("PROCEDURE: vote", "PROCEDURE: dice"), "procedure"),
    (SPEC_LINES.replace("ROLE: Captain", "ROLE: Trader"), "distinct"),
    ("\n".join(line for line in SPEC_LINES.splitlines() if not line.startswith("ROLE")), "roles"),
    ('{"title": "X", "roles": "everyone"}', "invalid game spec"),
])
def test_invalid_specs_say_what_is_wrong(bad, why):
    with pytest.raises(FormatError, match=why):
        parse_spec(bad)


def test_fallback_specs_are_valid_and_cover_every_procedure():
    assert {s.procedure for s in FALLBACK_SPECS} == {"vote", "lowest_unique", "referee"}
    for s in FALLBACK_SPECS:
        assert GameSpec.model_validate(s.model_dump()) == s


def test_moves_votes_numbers():
    move = parse_move("SAY: hi all\nTELL P2: deal?\nACTION: offer 5 coins\nCOUNTER: 7", 0, 2, ["offer", "counter"])
    assert move.say == ["hi all"] and move.tell == [(1, "deal?")]
    assert move.actions == [("offer", "5 coins"), ("counter", "7")]
    assert parse_move("well, I wait", 0, 2, ["offer"]).say == ["well, I wait"]
    with pytest.raises(FormatError, match="unknown action"):
        parse_move("ACTION: fly away", 0, 2, ["offer"])
    assert parse_vote("VOTE: P2", 0, 2) == 1
    with pytest.raises(FormatError):
        parse_vote("VOTE: P1", 0, 3)  # not yourself
    assert parse_vote("VOTE: P1", 0, 2) == 0  # two players: naming yourself claims the win
    assert parse_number("NUMBER: 3") == 3
    with pytest.raises(FormatError):
        parse_number("eleven, or 42")


def social_ctx(a1, a2, p1, p2, referee=("A",)):
    vs = [variant("a1", "constant", text=a1), variant("a2", "constant", text=a2),
          variant("p1", "script", script=p1), variant("p2", "script", script=p2),
          variant("r1", "script", script=list(referee))]
    return make_ctx(vs, referees=("r1",), authors=("a1", "a2"), players=("p1", "p2"), family="social")


def test_generated_game_is_ranked_played_and_won_by_its_procedure():
    # r1 answers A,A then B,A...: the game panel sees a1 vs a2 first
    ctx = social_ctx(spec_with("vote"), spec_with("lowest_unique").replace("Harbour", "Dock"),
                     ["ACTION: offer 5 coins", "VOTE: P2"], ["SAY: too low", "VOTE: P2"],
                     referee=("B", "A"))
    res = asyncio.run(create_family("social", {}).play(ctx))
    games = [rs for rs in res.ranked_sets if rs.criterion == "game"][0]
    assert games.role == "author" and games.rated
    ranks = {e.variant: e.rank for e in games.entries}
    assert sorted(ranks.values()) == [0, 1]  # r1 saw the same winner in both orders
    winner = min(ranks, key=ranks.get)
    assert res.details["author"] == winner  # the best-ranked game is the one played
    assert res.details["spec"]["procedure"] == {"a1": "vote", "a2": "lowest_unique"}[winner]
    ethics = [rs for rs in res.ranked_sets if rs.criterion == "ethics"][0]
    assert not ethics.rated and {e.variant for e in ethics.entries} == {"p1", "p2"}
    assert res.outcome.rated and len(res.outcome.entries) == 2
    assert res.details["procedure"]["kind"] == res.details["spec"]["procedure"]


def test_vote_procedure_picks_the_winner():
    ctx = social_ctx(spec_with("vote"), "nonsense", ["SAY: vote for me", "VOTE: P2"], ["SAY: me too", "VOTE: P2"])
    res = asyncio.run(create_family("social", {}).play(ctx))
    # p1 conceded to P2, p2 claimed the win: both votes for P2
    assert res.details["procedure"]["choices"] == [1, 1]
    assert res.details["scores"] == [0.0, 1.0] and [e.rank for e in res.outcome.entries] == [1, 0]
    assert ("a2", "author", "unparseable") in [(f.variant, f.role, f.kind) for f in res.failures]
    assert not any(f.role == "player" for f in res.failures)


def test_two_players_who_both_claim_the_win_tie_and_an_unreadable_vote_abstains():
    ctx = social_ctx(spec_with("vote"), "nonsense", ["SAY: me", "VOTE: P1"], ["SAY: me", "VOTE: P2"])
    res = asyncio.run(create_family("social", {}).play(ctx))
    assert res.details["scores"] == [0.5, 0.5] and [e.rank for e in res.outcome.entries] == [0, 0]
    ctx = social_ctx(spec_with("vote"), "nonsense", ["SAY: me", "VOTE: P1"], ["SAY: me", "no idea", "pass"])
    res = asyncio.run(create_family("social", {}).play(ctx))
    assert res.details["procedure"]["choices"] == [0, None]  # re-asked once, then a format failure
    assert ("p2", "player", "unparseable") in [(f.variant, f.role, f.kind) for f in res.failures]
    assert [e.rank for e in res.outcome.entries] == [0, 1]


def test_final_choices_are_asked_from_their_closed_list():
    from arena.records import Constraint
    from tournaments.families.social.family import NUMBER_CHOICES, vote_choices
    assert vote_choices(0, 2) == ("VOTE: P1", "VOTE: P2") and vote_choices(0, 3) == ("VOTE: P2", "VOTE: P3")

    ctx = social_ctx(spec_with("lowest_unique"), "x", ["SAY: low", "NUMBER: 2"], ["SAY: high", "NUMBER: 5"])
    requests = spy_on(ctx, "p1")
    res = asyncio.run(create_family("social", {}).play(ctx))
    assert requests[-1].constraint == Constraint(choices=NUMBER_CHOICES)
    assert res.details["scores"] == [1.0, 0.0] and [e.rank for e in res.outcome.entries] == [0, 1]


def test_referee_game_without_any_eligible_referee_is_decided_by_the_players_votes():
    vs = [variant("a1", "constant", text=spec_with("referee")), variant("p1", "script", script=["SAY: hi", "VOTE: P2"]),
          variant("p2", "script", script=["SAY: hey", "VOTE: P2"])]
    ctx = make_ctx(vs, authors=("a1",), players=("p1", "p2"), family="social")
    res = asyncio.run(create_family("social", {"games": 1, "meta": False}).play(ctx))
    proc = res.details["procedure"]
    assert proc["kind"] == "vote" and proc["instead_of"] == "referee" and "no eligible referee" in proc["note"]
    assert res.outcome.rated and [e.rank for e in res.outcome.entries] == [1, 0]
    assert res.outcome.ranked_by == "rule"


def test_the_spec_schema_describes_what_parse_spec_reads():
    import jsonschema
    from tournaments.families.social.spec import SPEC_SCHEMA, spec_json
    schema = json.loads(SPEC_SCHEMA.schema)
    for spec in FALLBACK_SPECS[:2]:
        obj = json.loads(spec_json(spec))
        obj["roles"] = obj["roles"][:3]
        jsonschema.validate(obj, schema)
        assert parse_spec(json.dumps(obj)).title == spec.title


def test_invalid_specs_fall_back_to_a_builtin_game():
    ctx = social_ctx("no", "TITLE: x", ["SAY: hi", "VOTE: P2", "NUMBER: 2"], ["SAY: hey", "VOTE: P1", "NUMBER: 4"])
    res = asyncio.run(create_family("social", {}).play(ctx))
    assert res.details["fallback"] is True
    assert res.details["spec"]["title"] in {s.title for s in FALLBACK_SPECS}
    assert len(res.details["spec_failures"]) == 2
    assert len([c for c in ctx.calls if c.role == "author"]) == 4  # each author re-asked once
    assert not any(rs.role == "author" for rs in res.ranked_sets)


def test_referee_procedure_uses_the_panel():
    ctx = social_ctx(spec_with("referee"), "x", ["ACTION: reveal the leak"], ["SAY: hmm"], referee=("B", "A"))
    res = asyncio.run(create_family("social", {}).play(ctx))
    play = [rs for rs in res.ranked_sets if rs.criterion == "play"][0]
    assert not play.rated and res.details["procedure"]["kind"] == "referee"
    assert res.details["scores"] == [0.0, 1.0]  # r1 preferred seat 2 in both orders


def test_bad_options():
    with pytest.raises(FamilyOptionError, match="unknown option"):
        create_family("social", {"rounds": 3})
    assert create_family("social", {"players": 4}).seats == 4


def test_a_reply_to_the_form_prompt_may_start_with_the_bare_title_and_leave_out_defaults():
    spec = parse_spec("The Ballad of Ashley\nPREMISE: A city lost its only bell before the festival.\n"
                      "ROLE: Treasurer | keep the bell fund | the fund is short\nROLE: Thief | take the bell\n"
                      "WIN: whoever holds the bell at the end")
    assert spec.title == "The Ballad of Ashley" and spec.turns == 2 and spec.procedure == "referee"
    assert spec.actions == ["propose", "agree", "refuse"] and spec.roles[1].private_info == ""


def test_played_games_are_never_exported_as_one_reply_and_every_set_says_who_ranked_it():
    ctx = social_ctx(spec_with("referee"), spec_with("vote").replace("Harbour", "Dock"),
                     ["ACTION: offer 5 coins"], ["SAY: too low"], referee=("A", "B"))
    res = asyncio.run(create_family("social", {}).play(ctx))
    by = {rs.criterion: rs for rs in res.ranked_sets}
    for criterion in ("outcome", "ethics", "play"):  # rankings of whole games
        if criterion in by:
            assert not by[criterion].exportable, criterion
    assert "outcome" in by and "ethics" in by
    assert by["game"].exportable and by["game"].ranked_by == "referees:r1"  # specs answering one prompt
    assert all(rs.ranked_by for rs in res.ranked_sets)
