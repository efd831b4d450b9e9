"""Ask a model for structured output, re-asking once with the reason when it is unusable.

The policy for authored material (challenges, validators, programs): one re-ask that
quotes what was wrong, then the answer is dropped and recorded as a FormatFailure (not
a skill loss). The check may be async, e.g. running a validator in the sandbox.
"""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arena.engine.gateway import CallFailed
from arena.records import FormatFailure, Messages
from tournaments.kit.extract import FormatError

if TYPE_CHECKING:
    from arena.engine.match import MatchContext

Check = Callable[[str], Any | Awaitable[Any]]


@dataclass
class Attempted:
    """The outcome of asking one variant: a value, or why there is none."""

    variant: str
    value: Any = None
    text: str = ""  # the last answer (what gets ranked)
    reasons: list[str] = field(default_factory=list)  # one per unusable answer
    failed_call: str | None = None
    seat: int | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None


async def ask_checked(ctx: "MatchContext", variant: str, role: str, messages: Messages, check: Check, *,
                      max_tokens: int | None, retries: int = 1, what: str = "answer", seat: int | None = None,
                      failures: list[FormatFailure] | None = None,
                      choices: tuple[str, ...] | None = None) -> Attempted:
    """Ask, check, and on FormatError re-ask (up to `retries` times) with the reason.

    Every unusable answer is appended to `failures` as kind "unparseable" (kind "call-failed"
    when the model call itself failed), so format problems stay apart from skill losses.
    """
    out = Attempted(variant, seat=seat)
    convo = list(messages)
    for attempt in range(retries + 1):
        try:
            completion = await ctx.ask(variant, role, convo, max_tokens=max_tokens, choices=choices)
        except CallFailed as exc:
            out.failed_call = str(exc)
            if failures is not None:
                failures.append(FormatFailure(variant, seat, role, "call-failed", f"{what}: {exc}"[:500]))
            ctx.log("call-failed", variant=variant, role=role, what=what, error=str(exc)[:300])
            return out
        out.text = completion.text
        try:
            value = check(completion.text)
            if inspect.isawaitable(value):
                value = await value
        except FormatError as exc:
            reason = str(exc)[:600]
            out.reasons.append(reason)
            if failures is not None:
                failures.append(FormatFailure(variant, seat, role, "unparseable",
                                              f"{what} (attempt {attempt + 1}): {reason}"))
            ctx.log("format-failure", variant=variant, role=role, what=what, attempt=attempt + 1, reason=reason,
                    answer=completion.text[:300])
            convo = convo + [{"role": "assistant", "content": completion.text[:4000]},
                             {"role": "user", "content": f"That {what} cannot be used: {reason}\nPlease answer "
                                                         f"again, following the required format exactly."}]
            continue
        out.value = value
        return out
    return out
