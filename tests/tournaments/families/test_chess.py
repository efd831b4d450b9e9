import asyncio

import chess
import pytest

from arena.engine.family import FamilyOptionError
from arena.engine.gateway import Gateway
from arena.engine.match import MatchContext
from arena.records import SamplingParams, ScheduledMatch, Variant
from tournaments.families.chess import create, material, parse_move


def _ctx(white: Variant, black: Variant, seed: int = 1) -> MatchContext:
    m = ScheduledMatch("m1", "t", "chess", (white.name, black.name), 0, 0, 0, seed)
    return MatchContext(match=m, gateway=Gateway({white.name: white, black.name: black}))


def _play(white, black, **options):
    ctx = _ctx(white, black)
    return asyncio.run(create(options).play(ctx)), ctx


def test_parse_move_accepts_san_uci_and_chatty_answers():
    b = chess.Board()
    assert parse_move(b, "e4")[0] == chess.Move.from_uci("e2e4")
    assert parse_move(b, "I will play g1f3 today")[0] == chess.Move.from_uci("g1f3")
    assert parse_move(b, "1. Nf3!")[0] == chess.Move.from_uci("g1f3")
    move, reason = parse_move(b, "Ke2")
    assert move is None and "not a legal move" in reason
    move, reason = parse_move(b, "")
    assert move is None and reason.startswith("no move")
    move, _ = parse_move(b, "x" * 100_000)  # huge garbage is bad input, not a crash
    assert move is None


def test_illegal_moves_are_reprompted_with_the_reason_then_forfeit():
    bad = Variant("bad", "mock/script", options={"script": ["Ke2", "hello", "Qxh7"]})
    good = Variant("good", "mock/random")
    result, ctx = _play(bad, good, max_retries=2)
    kinds = [f.kind for f in result.failures]
    assert kinds == ["illegal-move", "unparseable", "illegal-move", "forfeit"]
    assert all(f.variant == "bad" for f in result.failures)
    assert len(ctx.calls) == 3  # first try + two re-prompts
    reprompt = ctx.calls[1].messages[-1]["content"]
    assert "Ke2 is not a legal move" in reprompt and "Legal moves:" in reprompt
    ranks = {e.variant: e.rank for e in result.outcome.entries}
    assert ranks == {"good": 0, "bad": 1}
    assert "forfeits" in result.summary


def test_a_recovered_format_failure_is_recorded_but_the_game_goes_on():
    # one bad answer, then legal moves: the failure is on record, the game continues
    flaky = Variant("flaky", "mock/script", options={"script": ["nonsense"] + ["e4", "d4", "Nc3", "Nf3"] * 10})
    rnd = Variant("rnd", "mock/random")
    result, _ = _play(flaky, rnd, max_plies=6)
    assert [f.kind for f in result.failures] == ["unparseable"]
    assert result.details["plies"] >= 2


def test_a_move_corrected_on_a_reprompt_becomes_a_legal_move_preference():
    flaky = Variant("flaky", "mock/script", options={"script": ["Ke2", "hello", "e4"] + ["d4", "Nc3", "Nf3"] * 10})
    rnd = Variant("rnd", "mock/random")
    result, ctx = _play(flaky, rnd, max_plies=6)
    corrections = [rs for rs in result.ranked_sets if rs.criterion == "legal-move"]
    assert len(corrections) == 1
    rs = corrections[0]
    assert not rs.rated and rs.exportable  # training signal only, ratings untouched
    assert [(e.variant, e.text, e.rank) for e in rs.entries] == [("flaky", "e4", 0), ("flaky", "Ke2", 1),
                                                                  ("flaky", "hello", 1)]
    # the prompt is the position as first asked, without the re-prompts
    assert rs.prompt == ctx.calls[0].messages
    assert "Legal moves:" in rs.prompt[-1]["content"] and rs.prompt[-1]["role"] == "user"


def test_a_forfeit_yields_no_legal_move_preference():
    bad = Variant("bad", "mock/script", options={"script": ["Ke2"]})
    result, _ = _play(bad, Variant("good", "mock/random"), max_retries=1)
    assert [rs.criterion for rs in result.ranked_sets] == ["outcome"]  # nothing legal to prefer


def test_ply_limit_adjudicates_by_material():
    a, b = Variant("a", "mock/random"), Variant("b", "mock/random")
    result, _ = _play(a, b, max_plies=4)
    assert result.details["plies"] == 4 and "adjudicated" in result.summary
    board = chess.Board(result.details["final_fen"])
    diff = material(board, chess.WHITE) - material(board, chess.BLACK)
    scores = result.details["scores"]
    if abs(diff) < 3:
        assert scores == [0.5, 0.5]
    else:
        assert scores == ([1.0, 0.0] if diff > 0 else [0.0, 1.0])


def test_random_movers_finish_real_games_reproducibly():
    a, b = Variant("a", "mock/random"), Variant("b", "mock/random")
    r1, _ = _play(a, b, max_plies=400)
    r2, _ = _play(a, b, max_plies=400)
    assert r1.details["pgn"] == r2.details["pgn"]  # seeded: the same game twice
    game = chess.Board()
    assert r1.details["plies"] > 0
    assert r1.outcome.exportable is False


def test_checkmate_is_scored_by_the_rules():
    fools_mate = ["f3", "e5", "g4", "Qh4#"]
    white = Variant("w", "mock/script", options={"script": fools_mate[0::2]})
    black = Variant("b", "mock/script", options={"script": fools_mate[1::2]})
    result, _ = _play(white, black)
    assert result.details["scores"] == [0.0, 1.0]
    assert result.summary.startswith("0-1") and "checkmate" in result.summary


def test_bad_options_are_clear_errors():
    with pytest.raises(FamilyOptionError, match="max_plies"):
        create({"max_plies": "many"})
    with pytest.raises(FamilyOptionError, match="unknown option"):
        create({"plies": 3})


def test_constrained_play_with_the_embedded_model_makes_only_legal_moves():
    # A hot 135M model picks illegal or unreadable moves unconstrained; under the legal-move grammar
    # every answer is one of the legal moves, so nothing is re-prompted or forfeited.
    hot = SamplingParams(temperature=1.3, max_tokens=10)
    white, black = Variant("w", "local/smollm2-135m", hot), Variant("b", "local/smollm2-135m", hot)
    result, ctx = _play(white, black, max_plies=6, constrained=True)
    assert result.failures == [] and result.details["plies"] == 6
    assert all(c.constrained for c in ctx.calls) and len(ctx.calls) == 6
    assert result.details["constrained"] == {"move": {"calls": 6, "constrained": 6}}
    assert [rs.criterion for rs in result.ranked_sets] == ["outcome"]  # no corrections to learn from


def test_constrained_is_off_by_default_and_must_be_a_boolean():
    assert create({}).constrained is False
    with pytest.raises(FamilyOptionError, match="constrained"):
        create({"constrained": "sometimes"})
