"""Ask, parse, re-ask once with the reason, then record a format failure.

Model output is bad input: `parse` raises tournaments.kit.extract.FormatError (or ValueError) with a
short reason, which is shown back to the model once. A second failure becomes a FormatFailure
(never a skill loss). A failed call is no format failure: it raises CallFailed (tournaments.kit.reask).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arena.records import Constraint, FormatFailure, Messages
from tournaments.kit.extract import FormatError
from tournaments.kit.reask import ask_checked

if TYPE_CHECKING:
    from arena.engine.match import MatchContext


@dataclass
class Parsed:
    value: Any  # None when both tries failed
    text: str  # the last reply
    messages: Messages  # the first prompt (the one a preference pair is about)
    failure: FormatFailure | None = None


async def ask_parsed(ctx: "MatchContext", variant: str, role: str, messages: Messages,
                     parse: Callable[[str], Any], *, seat: int | None = None, max_tokens: int | None = None,
                     choices: tuple[str, ...] | None = None, what: str = "answer",
                     constraint: Constraint | None = None) -> Parsed:
    """tournaments.kit.reask's policy (one re-ask with the reason), reporting only the final failure."""
    def check(text: str) -> Any:
        try:
            return parse(text)
        except FormatError:
            raise
        except ValueError as exc:
            raise FormatError(str(exc) or "unreadable") from None

    got = await ask_checked(ctx, variant, role, messages, check, max_tokens=max_tokens, retries=1, what=what,
                            seat=seat, choices=choices, constraint=constraint)
    failure = None
    if not got.ok:
        failure = FormatFailure(variant, seat, role, "unparseable", f"{what}: {got.reasons[-1] if got.reasons else 'unreadable'}"[:300])
    return Parsed(got.value, got.text, messages, failure)
