"""A call's number (and so its sampling seed and cache key) follows its place in the match, not the
order in which concurrent calls happened to finish: a resumed match asks exactly the same calls."""
from __future__ import annotations

import asyncio

from arena.engine.gateway import Gateway
from arena.engine.match import MatchContext
from arena.records import ScheduledMatch, Variant


def _match() -> ScheduledMatch:
    return ScheduledMatch(match_id="m1", tournament_id="t", family="f", seq=0, round=0, repetition=0, seed=99,
                          seats=("a", "b"))


CHOICES = tuple(str(i) for i in range(10_000))  # mock/random picks one by the call's seed


async def _play(latency_a: float, latency_b: float) -> dict[tuple[str, int], str]:
    """Both seats asked at once, each re-asked after its own answer (a re-ask loop per seat)."""
    variants = {"a": Variant("a", "mock/random", options={"latency_s": latency_a}),
                "b": Variant("b", "mock/random", options={"latency_s": latency_b})}
    gw = Gateway(variants)
    ctx = MatchContext(match=_match(), gateway=gw)
    answers: dict[tuple[str, int], str] = {}

    async def seat(v: str) -> None:
        convo = [{"role": "user", "content": "pick"}]
        done = await ctx.ask(v, "player", convo, choices=CHOICES)
        answers[(v, 1)] = done.text
        again = await ctx.ask(v, "player", convo + [{"role": "assistant", "content": done.text},
                                                    {"role": "user", "content": "again, in the format"}],
                              choices=CHOICES)
        answers[(v, 2)] = again.text

    await asyncio.gather(seat("a"), seat("b"))
    await gw.aclose()
    return answers


def test_seeds_do_not_depend_on_which_concurrent_call_finished_first():
    a_first = asyncio.run(_play(0.01, 0.05))
    b_first = asyncio.run(_play(0.05, 0.01))
    assert len(set(a_first.values())) == 4  # four independent samples
    assert a_first == b_first


async def _calls(latency_a: float, latency_b: float) -> list[tuple[str, int]]:
    variants = {"a": Variant("a", "mock/constant", options={"latency_s": latency_a}),
                "b": Variant("b", "mock/constant", options={"latency_s": latency_b})}
    gw = Gateway(variants)
    ctx = MatchContext(match=_match(), gateway=gw)

    async def seat(v: str) -> None:
        convo = [{"role": "user", "content": "answer"}]
        done = await ctx.ask(v, "player", convo)
        await ctx.ask(v, "player", convo + [{"role": "assistant", "content": done.text},
                                            {"role": "user", "content": "again"}])

    await asyncio.gather(seat("a"), seat("b"))
    await gw.aclose()
    return [(c.variant, len(c.messages)) for c in ctx.calls]


def test_the_stored_order_of_a_matchs_calls_does_not_depend_on_completion_order():
    assert asyncio.run(_calls(0.01, 0.05)) == asyncio.run(_calls(0.05, 0.01))


def test_a_calls_seed_is_the_one_its_place_always_gave():
    """Seeds are part of every cache key: a tournament resumed by a newer arena must ask the same
    calls, so the derivation (and its memoised pieces) keeps the values it had."""
    async def go() -> list[str]:
        gw = Gateway({"a": Variant("a", "mock/random")})
        ctx = MatchContext(match=_match(), gateway=gw)
        convo = [{"role": "user", "content": "pick"}]
        out = [(await ctx.ask("a", "player", convo, choices=CHOICES, max_tokens=8)).text,
               (await ctx.ask("a", "player", convo, choices=CHOICES, max_tokens=8)).text,  # asked again
               (await ctx.ask("a", "player", convo, choices=CHOICES)).text,
               (await ctx.ask("a", "player", convo, choices=list(CHOICES), max_tokens=8)).text]  # type: ignore[arg-type]
        await gw.aclose()
        return out

    assert asyncio.run(go()) == ["9102", "2963", "1922", "4319"]
