"""The multi-agent turn loop: public and private talk, conduct, re-asks, the family ending the game."""
import asyncio
from dataclasses import dataclass, field

from tests.referees.ctxkit import make_ctx, variant
from tournaments.kit.extract import FormatError
from tournaments.kit.turns import Talk, take_turns


@dataclass
class Said:
    say: list[str] = field(default_factory=list)
    tell: list[tuple[int, str]] = field(default_factory=list)
    stop: bool = False


def parse(text: str, seat: int) -> Said:
    if text == "bad":
        raise FormatError("say something")
    if text.startswith("psst"):
        return Said(tell=[(1 - seat, text)])
    return Said(say=[text], stop=text == "stop")


def test_talk_reaches_the_right_seats_and_the_family_can_end_the_game():
    ctx = make_ctx([variant("p1", "script", script=["hello", "stop"]),
                    variant("p2", "script", script=["bad", "bad", "psst p1"])])
    talk, failures, asked = Talk(2), [], []

    def prompt(seat, round_no):
        asked.append((seat, round_no, list(talk.seen(seat, 10))))
        return [{"role": "user", "content": "your turn"}]

    def act(seat, round_no, said):
        if not said.stop:
            talk.acted(seat, f"P{seat + 1} WAVES", "WAVE")
        return said.stop

    asyncio.run(take_turns(ctx, talk, rounds=5, prompt=prompt, parse=parse, act=act, failures=failures,
                           max_tokens=20, what="turn"))
    # round 1: p1 says hello; p2 fails twice (one re-ask) and its turn passes; round 2: p1 stops the game
    assert [(s, r) for s, r, _ in asked] == [(0, 0), (1, 0), (0, 1)]
    assert asked[1][2] == ["P1: hello", "P1 WAVES"]
    assert talk.conduct == {0: ["SAY: hello", "WAVE", "SAY: stop"], 1: ["(invalid turn: bad)"]}
    assert len(failures) == 1 and failures[0].seat == 1 and failures[0].kind == "unparseable"
    assert talk.public() == ["P1: hello", "P1 WAVES", "P1: stop"]


def test_private_lines_are_seen_only_by_their_recipient():
    talk = Talk(3)
    talk.said(0, ["hi all"], [(2, "only you")])
    assert talk.seen(1, 10) == ["P1: hi all"]
    assert talk.seen(2, 10) == ["P1: hi all", "P1 (privately to you): only you"]
    assert talk.seen(2, 1) == ["P1 (privately to you): only you"]
    assert talk.conduct[0] == ["SAY: hi all", "TELL P3: only you"] and talk.conduct[1] == []
