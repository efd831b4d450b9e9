"""Building a MatchContext over scripted (mock) variants for referee tests."""
from __future__ import annotations

from arena.engine.gateway import Gateway, RetryPolicy
from arena.engine.match import MatchContext
from arena.records import ScheduledMatch, Variant


def variant(name: str, kind: str, **options) -> Variant:
    return Variant(name, f"mock/{kind}", options=options)


def make_ctx(variants: list[Variant], seats=("p1", "p2"), *, seed: int = 11, family: str = "test", **kw) -> MatchContext:
    gw = Gateway({v.name: v for v in variants}, retry=RetryPolicy(max_attempts=1, base_delay_s=0))
    match = ScheduledMatch("match-1", "t-1", family, tuple(seats), 0, 0, 0, seed)
    return MatchContext(match, gw, **kw)


def players() -> list[Variant]:
    return [variant("p1", "constant", text="one"), variant("p2", "constant", text="two"),
            variant("p3", "constant", text="three")]
