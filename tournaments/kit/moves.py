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
from tournaments.kit.extract import FormatError
from tournaments.kit.reask import ask_checked

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
    the reason and lists the choices after `legal_label` ("Legal moves"). The loop is
    tournaments.kit.reask's; a failed call fails the match (it is replayed), as before."""
    variant = ctx.seats[seat]

    def check(text: str) -> Any:
        move, reason = parse(text)
        if move is None:
            raise FormatError(reason)
        return move

    got = await ask_checked(ctx, variant, PLAYER, messages, check, max_tokens=max_tokens, retries=max_retries,
                            what="move", seat=seat, choices=choices,
                            reprompt=lambda reason: f"{reason}. {legal_label}: {' '.join(choices)}. "
                                                    "Reply with one of them only.")
    if got.call_error is not None:
        raise got.call_error  # the same error (a cost limit stays a cost limit)
    for reason in got.reasons:
        kind = "unparseable" if reason.startswith("no ") else "illegal-move"
        record.failures.append(FormatFailure(variant, seat, PLAYER, kind, f"ply {ply}: {reason}"))
    if got.ok and got.reasons:
        record.corrections.append(correction(variant, seat, messages, got.text, got.answers[:-1]))
    return got.value


def correction(variant: str, seat: int, prompt: Messages, legal: str, unusable: list[str]) -> RankedSet:
    """The legal answer over the unusable ones, all answering the position's first prompt."""
    entries = [Entry(variant, legal, 0, 1.0, seat)]
    entries += [Entry(variant, text, 1, 0.0, seat) for text in unusable]
    return RankedSet(PLAYER, list(prompt), entries, criterion=LEGAL_MOVE, rated=False, exportable=True)
