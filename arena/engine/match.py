"""What a family sees while it plays one match."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from arena.engine.gateway import Gateway
from arena.records import CallRecord, Completion, Messages, ScheduledMatch

UNLEASHED = "UNLEASHED: "


@dataclass
class MatchContext:
    match: ScheduledMatch
    gateway: Gateway
    options: dict[str, Any] = field(default_factory=dict)
    referees: tuple[str, ...] = ()
    meta_referees: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    players: tuple[str, ...] = ()  # the tournament's whole field, e.g. to draw judges from
    unleashed: bool = False  # put UNLEASHED: before open-ended task prompts
    calls: list[CallRecord] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.match.seed)
        self._call_no = 0

    @property
    def seats(self) -> tuple[str, ...]:
        return self.match.seats

    @property
    def match_id(self) -> str:
        return self.match.match_id

    def task_prompt(self, text: str) -> str:
        """The prompt of an open-ended task, prefixed when the family is unleashed."""
        return UNLEASHED + text if self.unleashed and not text.startswith(UNLEASHED) else text

    async def ask(self, variant: str, role: str, messages: Messages, *,
                  choices: tuple[str, ...] | None = None, max_tokens: int | None = None) -> Completion:
        """One model call, recorded with the match. Raises arena.engine.gateway.CallFailed."""
        # Each call gets its own seed derived from the match seed, so sampling
        # (and scripted players) replay exactly on a re-run.
        self._call_no += 1
        seed = (self.match.seed * 1_000_003 + self._call_no) % (2**31 - 1)
        return await self.gateway.ask(variant, role, messages, match_id=self.match_id, seed=seed,
                                      choices=choices, max_tokens=max_tokens, record=self.calls)

    def log(self, kind: str, **data: Any) -> None:
        self.transcript.append({"type": kind, **data})
