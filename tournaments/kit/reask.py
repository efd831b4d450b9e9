"""Ask a model for structured output, re-asking with the reason when it is unusable.

The one re-ask loop of the families. The default policy (authored material, turns, answers):
one re-ask that quotes what was wrong, then the answer is dropped and recorded as a
FormatFailure (not a skill loss). The check may be async, e.g. running a validator in the
sandbox. Board games (tournaments.kit.moves) use the same loop with more retries and their
own re-prompt listing the legal moves. (The referee panel's re-ask, referees/panel.py, is
batched by phase so that the order of calls stays fixed, and lives below the families.)

A failed call (an outage, a dead player after the gateway's retries, a spent cost limit) is not
a format failure: the CallFailed propagates, so the match fails and a re-run replays it (or the
run stops at the cost limit) instead of rating a game nobody finished.
"""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arena.engine.gateway import CallFailed
from arena.engine.match import failed_as
from arena.records import Constraint, FormatFailure, Messages
from tournaments.kit.extract import FormatError

if TYPE_CHECKING:
    from arena.engine.match import MatchContext

Check = Callable[[str], Any | Awaitable[Any]]
_PLAIN = frozenset({str, int, float, bool, tuple, list, dict, type(None)})  # what a check returns, never awaitable


@dataclass
class Attempted:
    """The outcome of asking one variant: a value, or why there is none."""

    variant: str
    value: Any = None
    text: str = ""  # the last answer (what gets ranked)
    answers: list[str] = field(default_factory=list)  # every answer, in order (the last is `text`)
    prompts: list[Messages] = field(default_factory=list)  # the conversation each answer replied to
    reasons: list[str] = field(default_factory=list)  # one per unusable answer
    seat: int | None = None
    constrained: list[bool] = field(default_factory=list)  # per answer: the backend enforced its format

    def count_constrained(self, details: dict[str, Any], what: str) -> None:
        """Add these calls to details["constrained"][what] = {"calls": n, "constrained": k}: which
        of a match's calls the backend held to their format (the CallRecords say it per call)."""
        tally = details.setdefault("constrained", {}).setdefault(what, {"calls": 0, "constrained": 0})
        tally["calls"] += len(self.answers)
        tally["constrained"] += sum(self.constrained)

    @property
    def ok(self) -> bool:
        return self.value is not None


async def ask_checked(ctx: "MatchContext", variant: str, role: str, messages: Messages, check: Check, *,
                      max_tokens: int | None, retries: int = 1, what: str = "answer", seat: int | None = None,
                      failures: list[FormatFailure] | None = None,
                      choices: tuple[str, ...] | None = None,
                      reprompt: Callable[[str], str] | None = None,
                      constraint: Constraint | None = None) -> Attempted:
    """Ask, check, and on FormatError re-ask (up to `retries` times) with the reason.

    Every unusable answer is appended to `failures` as kind "unparseable", so format problems
    stay apart from skill losses. A failed call raises CallFailed (naming the variant and role).
    `reprompt(reason)` is what the model is told after an unusable answer (default: the
    reason and a request to follow the required format).
    """
    out = Attempted(variant, seat=seat)
    convo = list(messages)
    for attempt in range(retries + 1):
        try:
            completion = await ctx.ask(variant, role, convo, max_tokens=max_tokens, choices=choices,
                                       constraint=constraint)
        except CallFailed as exc:
            ctx.log("call-failed", variant=variant, role=role, what=what, error=str(exc)[:300])
            raise failed_as(exc, variant, role)
        out.text = completion.text
        out.answers.append(completion.text)
        out.constrained.append(completion.constrained)
        out.prompts.append(convo)
        try:
            value = check(completion.text)
            if type(value) not in _PLAIN and inspect.isawaitable(value):  # the ABC check costs more than a move
                value = await value
        except FormatError as exc:
            reason = str(exc)[:600]
            out.reasons.append(reason)
            if failures is not None:
                failures.append(FormatFailure(variant, seat, role, "unparseable",
                                              f"{what} (attempt {attempt + 1}): {reason}"))
            ctx.log("format-failure", variant=variant, role=role, what=what, seat=seat, attempt=attempt + 1,
                    reason=reason, answer=completion.text[:300])
            again = (reprompt(reason) if reprompt is not None else
                     f"That {what} cannot be used: {reason}\nPlease answer again, following the required format exactly.")
            convo = convo + [{"role": "assistant", "content": completion.text[:4000]}, {"role": "user", "content": again}]
            continue
        out.value = value
        return out
    return out
