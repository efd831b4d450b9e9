"""The one re-ask loop: the reason goes back to the model, every unusable answer is recorded."""
import asyncio

import pytest

from arena.engine.gateway import CallFailed
from arena.records import PLAYER, Variant
from tests.referees.ctxkit import make_ctx, variant
from tournaments.kit.extract import FormatError
from tournaments.kit.moves import MoveRecord, ask_move
from tournaments.kit.reask import ask_checked


def digit(text: str) -> int:
    if not text.isdigit():
        raise FormatError("reply with a number")
    return int(text)


def test_the_reason_is_shown_back_and_every_answer_kept():
    ctx = make_ctx([variant("p1", "script", script=["seven", "eight", "9"])])
    failures = []
    got = asyncio.run(ask_checked(ctx, "p1", PLAYER, [{"role": "user", "content": "A number?"}], digit,
                                  max_tokens=8, retries=2, what="number", failures=failures,
                                  reprompt=lambda reason: f"No: {reason}."))
    assert got.ok and got.value == 9 and got.answers == ["seven", "eight", "9"] and got.text == "9"
    assert got.reasons == ["reply with a number"] * 2 and [f.kind for f in failures] == ["unparseable"] * 2
    last = ctx.calls[-1].messages
    assert [m["content"] for m in last[1:]] == ["seven", "No: reply with a number.", "eight",
                                                "No: reply with a number."]


def test_the_move_loop_keeps_its_failure_kinds_and_corrections_and_fails_on_a_failed_call():
    ctx = make_ctx([variant("p1", "script", script=["e9", "hello", "e4"])], seats=("p1",))

    def parse(text):
        if text == "e4":
            return "e4", ""
        return (None, "no move found") if text == "hello" else (None, f"illegal move {text}")

    record = MoveRecord()
    move = asyncio.run(ask_move(ctx, 0, [{"role": "user", "content": "Move?"}], parse, choices=("e4", "d4"),
                                legal_label="Legal moves", ply=3, max_retries=2, max_tokens=8, record=record))
    assert move == "e4"
    assert [(f.kind, f.detail) for f in record.failures] == [("illegal-move", "ply 3: illegal move e9"),
                                                             ("unparseable", "ply 3: no move found")]
    (fix,) = record.corrections
    assert [(e.text, e.rank) for e in fix.entries] == [("e4", 0), ("e9", 1), ("hello", 1)]
    assert ctx.calls[-1].messages[-1]["content"] == "no move found. Legal moves: e4 d4. Reply with one of them only."

    down = make_ctx([Variant("p1", "mock/fail", options={"kind": "fatal"})], seats=("p1",))
    with pytest.raises(CallFailed):
        asyncio.run(ask_move(down, 0, [], parse, choices=("e4",), legal_label="Legal moves", ply=1, max_retries=1,
                             max_tokens=8, record=MoveRecord()))
