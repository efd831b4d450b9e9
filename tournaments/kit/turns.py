"""The multi-agent turn loop shared by the social games (negotiation, generated games).

Players act in seat order, round after round. Each reply is parsed by the family (re-asked once
with the reason, tournaments.kit.reprompt); what a player SAYs goes to everyone, what it TELLs
Pk goes to Pk only, and every seat keeps a record of its own conduct (what the ethics panel
judges). The family adds its own actions (proposals, votes, game actions) and may end the game
early.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arena.records import PLAYER, Constraint, FormatFailure, Messages
from tournaments.kit.reprompt import ask_parsed

if TYPE_CHECKING:
    from arena.engine.match import MatchContext


@dataclass
class Talk:
    """Everything said in a game: events (private recipient or None, line) and per-seat conduct."""

    seats: int
    events: list[tuple[int | None, str]] = field(default_factory=list)
    conduct: dict[int, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.conduct = {s: [] for s in range(self.seats)} | self.conduct

    def seen(self, seat: int, last: int) -> list[str]:
        """The last `last` lines `seat` saw: public ones and those told to it."""
        return [text for to, text in self.events if to is None or to == seat][-last:]

    def public(self) -> list[str]:
        return [text for to, text in self.events if to is None]

    def said(self, seat: int, say: list[str], tell: list[tuple[int, str]]) -> None:
        me = f"P{seat + 1}"
        for line in say:
            self.events.append((None, f"{me}: {line}"))
            self.conduct[seat].append(f"SAY: {line}")
        for to, line in tell:
            self.events.append((to, f"{me} (privately to you): {line}"))
            self.conduct[seat].append(f"TELL P{to + 1}: {line}")

    def acted(self, seat: int, public: str, own: str) -> None:
        """A family action: `public` is what everyone sees, `own` what the seat's conduct records."""
        self.events.append((None, public))
        self.conduct[seat].append(own)


# prompt(seat, round) -> messages; parse(reply, seat) -> a value with .say and .tell (FormatError
# when unusable); act(seat, round, value) records the family's own actions, True ends the game.
Prompt = Callable[[int, int], Messages]
Parse = Callable[[str, int], Any]
Act = Callable[[int, int, Any], bool]


async def take_turns(ctx: MatchContext, talk: Talk, *, rounds: int, prompt: Prompt, parse: Parse, act: Act,
                     failures: list[FormatFailure], max_tokens: int, what: str,
                     constraint: Callable[[int, int], Constraint | None] | None = None) -> None:
    """Every seat in order for `rounds` rounds, or until `act` ends the game.

    An unusable turn (after its one re-ask) is a format failure, noted in the seat's conduct,
    and the turn passes. A failed call is not a passed turn: CallFailed fails the match.
    `constraint(seat, round)` is the format the turn is asked under (it may depend on the game's state).
    """
    for round_no in range(rounds):
        for seat, player in enumerate(ctx.seats):
            got = await ask_parsed(ctx, player, PLAYER, prompt(seat, round_no),
                                   lambda t, s=seat: parse(t, s), seat=seat, max_tokens=max_tokens, what=what,
                                   constraint=constraint(seat, round_no) if constraint else None)
            if got.failure:
                failures.append(got.failure)
                talk.conduct[seat].append(f"(invalid {what}: {got.text[:200]})")
                continue
            talk.said(seat, got.value.say, got.value.tell)
            if act(seat, round_no, got.value):
                return
