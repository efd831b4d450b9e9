import asyncio

from arena.engine.gateway import Gateway
from arena.engine.match import MatchContext
from arena.records import ScheduledMatch, Variant
from tournaments.kit.board import play_game, score_text


class Race:
    """The smallest board game: each move adds 1 or 2 to the mover's total; the first to 5 wins."""

    title, sides, noun = "race", ("Red", "Blue"), "step"

    def __init__(self):
        self.totals = [0, 0]
        self.steps: list[int] = []

    def legal_moves(self):
        return ["1", "2"]

    def prompt(self, seat, legal):
        return [{"role": "user", "content": f"You are {self.sides[seat]} at {self.totals[seat]}. Legal steps: "
                                            f"{' '.join(legal)}"}]

    def parse(self, text):
        text = (text or "").strip()
        if text in ("1", "2"):
            return int(text), ""
        return (None, f"{text} is too far") if text.isdigit() else (None, "no step found in the answer")

    def apply(self, step):
        self.totals[len(self.steps) % 2] += step
        self.steps.append(step)
        return str(step), {"step": step}

    def outcome(self):
        for seat, total in enumerate(self.totals):
            if total >= 5:
                return ([1.0, 0.0] if seat == 0 else [0.0, 1.0]), f"{self.sides[seat]} reaches 5"
        return None

    def record(self, ctx, scores):
        return {"steps": self.steps}

    def position(self):
        return {"totals": list(self.totals)}


def _play(first, second, max_retries=2):
    scripts = [Variant(name, "mock/script", options={"script": script}) for name, script in (first, second)]
    m = ScheduledMatch("m1", "t", "race", (scripts[0].name, scripts[1].name), 0, 0, 0, 1)
    ctx = MatchContext(match=m, gateway=Gateway({v.name: v for v in scripts}))
    return asyncio.run(play_game(ctx, Race(), max_retries=max_retries, max_tokens=4)), ctx


def test_seats_alternate_until_the_game_reports_its_outcome():
    result, ctx = _play(("red", ["2", "2", "2"]), ("blue", ["1", "1"]))
    assert result.summary == "1-0 Red reaches 5" and result.failures == []
    assert list(result.details) == ["steps", "termination", "plies", "totals", "scores"]
    assert result.details["steps"] == [2, 1, 2, 1, 2] and result.details["plies"] == 5
    assert [(e.variant, e.text, e.rank) for e in result.outcome.entries] == [("red", "2 2 2", 0), ("blue", "1 1", 1)]
    assert result.outcome.prompt[0]["content"] == "Play a game of race." and not result.outcome.exportable
    moves = [(t["ply"], t["seat"], t["step"]) for t in ctx.transcript if t["type"] == "move"]
    assert moves == [(1, 0, 2), (2, 1, 1), (3, 0, 2), (4, 1, 1), (5, 0, 2)]
    assert ctx.calls[1].messages[-1]["content"] == "You are Blue at 0. Legal steps: 1 2"


def test_no_usable_move_after_the_retries_forfeits_in_the_games_words():
    result, ctx = _play(("red", ["2"] * 5), ("blue", ["3", "left"]), max_retries=1)
    assert [f.kind for f in result.failures] == ["illegal-move", "unparseable", "forfeit"]
    assert result.failures[-1].detail == "no legal step after 2 tries at ply 2"
    assert ctx.calls[2].messages[-1]["content"] == "3 is too far. Legal steps: 1 2. Reply with one of them only."
    assert result.summary == "1-0 Blue forfeits (no legal step)" and result.details["plies"] == 1
    assert [rs.criterion for rs in result.ranked_sets] == ["outcome"]


def test_a_move_corrected_on_a_reprompt_is_kept_as_a_legal_move_preference():
    result, _ = _play(("red", ["1"] * 5), ("blue", ["3", "2", "2", "2"]))
    [legal] = [rs for rs in result.ranked_sets if rs.criterion == "legal-move"]
    assert [(e.text, e.rank) for e in legal.entries] == [("2", 0), ("3", 1)] and not legal.rated
    assert result.summary == "0-1 Blue reaches 5"


def test_score_text():
    assert [score_text(s) for s in ([1.0, 0.0], [0.0, 1.0], [0.5, 0.5])] == ["1-0", "0-1", "½-½"]


def test_constrained_play_asks_every_move_under_the_legal_list_and_records_it():
    from tests.players.wire import compat
    from tests.support.fault_server import FaultServer

    async def go():
        async with FaultServer(text="2") as srv:  # an OpenAI-compatible server that honours formats
            vs = [compat(n, srv.openai_url) for n in ("red", "blue")]
            m = ScheduledMatch("m1", "t", "race", ("red", "blue"), 0, 0, 0, 1)
            ctx = MatchContext(match=m, gateway=Gateway({v.name: v for v in vs}))
            result = await play_game(ctx, Race(), max_retries=2, max_tokens=4, constrained=True)
            await ctx.gateway.aclose()
            return result, ctx, list(srv.bodies)

    result, ctx, bodies = asyncio.run(go())
    assert result.summary == "1-0 Red reaches 5" and result.failures == []
    assert all(b["response_format"]["json_schema"]["schema"]["properties"]["answer"]["enum"] == ["1", "2"]
               for b in bodies) and len(bodies) == 5
    assert all(c.constrained for c in ctx.calls)
    assert result.details["constrained"] == {"move": {"calls": 5, "constrained": 5}}


def test_unconstrained_play_sends_no_format():
    result, ctx = _play(("red", ["2", "2", "2"]), ("blue", ["1", "1"]))
    assert "constrained" not in result.details and not any(c.constrained for c in ctx.calls)
