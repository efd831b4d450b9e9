"""Asking a player for one move in a board game, shared by chess and Connect Four.

The player sees the position and the legal moves and answers with one. An unusable
answer is re-prompted with the reason up to `max_retries` times; after that the player
forfeits (the caller decides what a forfeit means). Every unusable answer is a format
failure, recorded apart from losses on the board.

A corrected answer is also training signal: for the same position, the legal move the
player reached on a re-prompt is verifiably better than the illegal or unparseable
answers before it. Such a correction becomes a ranked set of criterion "legal-move"
(rated=False: it never moves ratings, it only feeds the preference export), so even a
135M model that fumbles the format yields DPO pairs from game families.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from arena.records import PLAYER, Entry, FormatFailure, Messages, RankedSet

LEGAL_MOVE = "legal-move"

# parse(answer) -> (move, "") or (None, reason); a reason starting "no " means nothing
# resembling a move was found (unparseable), any other reason names an illegal move.
Parse = Callable[[str], tuple[Any, str]]


@dataclass
class MoveRecord:
    """What the move loop keeps for the match result."""

    failures: list[FormatFailure] = field(default_factory=list)
    corrections: list[RankedSet] = field(default_factory=list)


async def ask_move(ctx, seat: int, messages: Messages, parse: Parse, *, choices: tuple[str, ...],
                   legal_label: str, ply: int, max_retries: int, max_tokens: int,
                   record: MoveRecord) -> Any | None:
    """The parsed move, or None when every try was unusable (a forfeit). A re-prompt gives
    the reason and lists the choices after `legal_label` ("Legal moves")."""
    variant = ctx.seats[seat]
    convo = list(messages)
    unusable: list[str] = []
    for attempt in range(max_retries + 1):
        completion = await ctx.ask(variant, PLAYER, convo, choices=choices, max_tokens=max_tokens)
        move, reason = parse(completion.text)
        if move is not None:
            if unusable:
                record.corrections.append(correction(variant, seat, messages, completion.text, unusable))
            return move
        kind = "unparseable" if reason.startswith("no ") else "illegal-move"
        record.failures.append(FormatFailure(variant, seat, PLAYER, kind, f"ply {ply}: {reason}"))
        ctx.log("format-failure", seat=seat, variant=variant, attempt=attempt + 1, reason=reason,
                answer=completion.text[:200])
        unusable.append(completion.text)
        convo = convo + [
            {"role": "assistant", "content": completion.text},
            {"role": "user", "content": f"{reason}. {legal_label}: {' '.join(choices)}. Reply with one of them only."},
        ]
    return None


def correction(variant: str, seat: int, prompt: Messages, legal: str, unusable: list[str]) -> RankedSet:
    """The legal answer over the unusable ones, all answering the position's first prompt."""
    entries = [Entry(variant, legal, 0, 1.0, seat)]
    entries += [Entry(variant, text, 1, 0.0, seat) for text in unusable]
    return RankedSet(PLAYER, list(prompt), entries, criterion=LEGAL_MOVE, rated=False, exportable=True)
