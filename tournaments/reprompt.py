"""Ask, parse, re-ask once with the reason, then record a format failure.

Model output is bad input: `parse` raises tournaments.extract.FormatError (or ValueError) with a
short reason, which is shown back to the model once. A second failure becomes a FormatFailure
(never a skill loss); a failed call becomes one too, of kind "call-failed".
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arena.calls import CallFailed
from arena.records import FormatFailure, Messages

if TYPE_CHECKING:
    from arena.match import MatchContext


@dataclass
class Parsed:
    value: Any  # None when both tries failed
    text: str  # the last reply
    messages: Messages  # the first prompt (the one a preference pair is about)
    failure: FormatFailure | None = None


async def ask_parsed(ctx: "MatchContext", variant: str, role: str, messages: Messages,
                     parse: Callable[[str], Any], *, seat: int | None = None, max_tokens: int | None = None,
                     choices: tuple[str, ...] | None = None, what: str = "answer") -> Parsed:
    convo = list(messages)
    text, reason = "", ""
    for attempt in range(2):
        try:
            completion = await ctx.ask(variant, role, convo, choices=choices, max_tokens=max_tokens)
        except CallFailed as exc:
            return Parsed(None, text, messages, FormatFailure(variant, seat, role, "call-failed", str(exc)[:300]))
        text = completion.text
        try:
            return Parsed(parse(text), text, messages)
        except ValueError as exc:  # FormatError is a ValueError
            reason = str(exc) or "unreadable"
            ctx.log("format-failure", variant=variant, role=role, what=what, attempt=attempt + 1,
                    reason=reason, answer=text[:200])
        convo = [*convo, {"role": "assistant", "content": text},
                 {"role": "user", "content": f"That {what} could not be used: {reason}. Try again, in the asked format."}]
    return Parsed(None, text, messages, FormatFailure(variant, seat, role, "unparseable", f"{what}: {reason}"[:300]))
