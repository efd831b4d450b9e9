import asyncio

import pytest

from arena.config import parse_config
from arena.engine.family import FamilyOptionError
from arena.engine.gateway import Gateway
from arena.engine.match import MatchContext
from arena.engine.runner import run
from arena.records import ScheduledMatch, Variant
from tournaments.families.connect_four import Board, create, parse_column


def _play(first: Variant, second: Variant, seed: int = 1, **options):
    m = ScheduledMatch("m1", "t", "connect-four", (first.name, second.name), 0, 0, 0, seed)
    ctx = MatchContext(match=m, gateway=Gateway({first.name: first, second.name: second}))
    return asyncio.run(create(options).play(ctx)), ctx


def test_parse_column_reads_the_first_number_and_says_why_not():
    legal = [0, 1, 2, 4, 5, 6]
    assert parse_column("4", legal, 7) == (4, "")
    assert parse_column("I drop it in column 2, then 5", legal, 7) == (2, "")
    assert parse_column("[col 6]", legal, 7) == (6, "")
    assert parse_column("3", legal, 7) == (None, "column 3 is full")
    assert parse_column("9", legal, 7)[1].startswith("column 9 does not exist")
    assert parse_column("the middle one", legal, 7) == (None, "no column number found in the answer")
    assert parse_column("", legal, 7)[0] is None and parse_column(None, legal, 7)[0] is None
    col, reason = parse_column("9" * 100_000, legal, 7)  # huge digit runs are bad input, not a crash
    assert col is None and "does not exist" in reason and len(reason) < 100


def test_four_in_a_row_wins_in_every_direction():
    for moves in ([0, 0, 1, 1, 2, 2, 3],  # across
                  [0, 1, 0, 1, 0, 1, 0],  # up
                  [0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3],  # diagonal /
                  [6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3]):  # diagonal \ (X, the first mover, wins each)
        board = Board(6, 7, 4)
        won = [board.drop(c, "XO"[i % 2]) for i, c in enumerate(moves)]
        assert won[-1] and not any(won[:-1]), moves
    board = Board(6, 7, 4)
    assert not board.drop(3, "X") and board.legal() == list(range(7))


def test_a_scripted_win_is_scored_by_the_rules_and_recorded_move_by_move():
    x = Variant("x", "mock/script", options={"script": ["3", "3", "3", "3"]})
    o = Variant("o", "mock/script", options={"script": ["0", "1", "5"]})
    result, ctx = _play(x, o)
    assert result.details["moves"] == [3, 0, 3, 1, 3, 5, 3]
    assert result.details["scores"] == [1.0, 0.0] and result.summary == "1-0 X connects 4"
    ranks = {e.variant: e.rank for e in result.outcome.entries}
    assert ranks == {"x": 0, "o": 1}
    assert result.outcome.exportable is False  # a whole game is not an answer to one prompt
    assert len(ctx.calls) == 7 and "Legal columns: 0 1 2 3 4 5 6" in ctx.calls[0].messages[-1]["content"]
    assert [t["column"] for t in ctx.transcript if t["type"] == "move"] == [3, 0, 3, 1, 3, 5, 3]


def test_illegal_answers_are_reprompted_with_the_reason_then_forfeit():
    good = Variant("good", "mock/script", options={"script": ["3", "0", "1"]})
    bad = Variant("bad", "mock/script", options={"script": ["12", "3", "left", "3"]})
    result, ctx = _play(good, bad, max_retries=1, rows=2)
    # bad: 12 (no such column), then 3 (fine, column 3 is now full); later "left", then 3 again: forfeit
    kinds = [(f.variant, f.kind) for f in result.failures]
    assert kinds == [("bad", "illegal-move"), ("bad", "unparseable"), ("bad", "illegal-move"), ("bad", "forfeit")]
    assert "column 12 does not exist" in ctx.calls[2].messages[-1]["content"]  # the re-prompt says why
    assert "Legal columns: 0 1 2 3 4 5 6." in ctx.calls[2].messages[-1]["content"]
    assert "column 3 is full" in result.failures[2].detail
    assert result.details["moves"] == [3, 3, 0]
    assert {e.variant: e.rank for e in result.outcome.entries} == {"good": 0, "bad": 1}
    assert "O forfeits" in result.summary
    # "12" corrected to "3" on the re-prompt is a preference for the legal answer; the forfeit is not
    [legal] = [rs for rs in result.ranked_sets if rs.criterion == "legal-move"]
    assert [(e.text, e.rank) for e in legal.entries] == [("3", 0), ("12", 1)] and not legal.rated
    assert legal.prompt == ctx.calls[1].messages


def test_a_full_board_without_a_line_is_a_draw():
    # bottom row X O X O, top row O X O X on a 2x4 board with connect 3: no line anywhere
    a = Variant("a", "mock/script", options={"script": ["0", "2", "1", "3"]})
    b = Variant("b", "mock/script", options={"script": ["1", "3", "0", "2"]})
    result, _ = _play(a, b, rows=2, cols=4, connect=3)
    assert result.details["plies"] == 8 and result.details["scores"] == [0.5, 0.5]
    assert result.summary.startswith("½-½ draw") and {e.rank for e in result.outcome.entries} == {0}


def test_random_movers_replay_the_same_game_from_the_same_seed():
    a, b = Variant("a", "mock/random"), Variant("b", "mock/random")
    r1, _ = _play(a, b, seed=7)
    r2, _ = _play(a, b, seed=7)
    assert r1.details["moves"] == r2.details["moves"] and r1.details["plies"] >= 7


def test_a_tournament_of_connect_four_rates_its_players(tmp_path):
    cfg = parse_config({"tournament": {"families": ["connect-four"], "players": ["random", "first"], "rounds": 2}})
    summary = run(cfg, tmp_path)
    assert summary.finished == 4 and summary.failed == 0
    overall = {r.variant: r for r in summary.ratings if r.family == "*" and r.role == "player"}
    assert set(overall) == {"random", "first"} and all(r.matches == 4 for r in overall.values())


def test_bad_options_are_clear_errors():
    with pytest.raises(FamilyOptionError, match="unknown option"):
        create({"columns": 7})
    with pytest.raises(FamilyOptionError, match="rows must be int"):
        create({"rows": "six"})
    with pytest.raises(FamilyOptionError, match="cannot exceed"):
        create({"rows": 3, "cols": 3, "connect": 5})
    with pytest.raises(FamilyOptionError, match="at most 50"):
        create({"cols": 10_000})


def test_constrained_is_an_option_off_by_default():
    assert create({}).constrained is False and create({"constrained": True}).constrained is True
    with pytest.raises(FamilyOptionError, match="constrained"):
        create({"constrained": "sometimes"})
