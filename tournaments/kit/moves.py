"""Asking a player for one move in a board game, shared by chess and Connect Four.

The player sees the position and the legal moves and answers with one. An unusable
answer is re-prompted with the reason up to `max_retries` times; after that the player
forfeits (the caller decides what a forfeit means). Every unusable answer is a format
failure, recorded apart from losses on the board.

A corrected answer is also training signal: for the same position, the legal move the
player reached on a re-prompt is verifiably better than the illegal or unparseable
answers before it. Such a correction becomes a ranked set of criterion "legal-move"
(rated=False: it never moves ratings, it only feeds the preference export), so even a
135M model that fumbles the format yields DPO pairs from game families. Its chosen text is
the move as the legal list writes it ("Nf3", not "I play Nf3"), verified by the rules; each
unusable answer keeps the conversation it replied to (the position, or a re-prompt after
earlier mistakes), so a pair is exported under the prompt its rejected text really answered.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from arena.records import PLAYER, Constraint, Entry, FormatFailure, Messages, RankedSet
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
    details: dict[str, Any] = field(default_factory=dict)  # {"constrained": ...} when moves are constrained


async def ask_move(ctx, seat: int, messages: Messages, parse: Parse, *, choices: tuple[str, ...],
                   legal_label: str, ply: int, max_retries: int, max_tokens: int,
                   record: MoveRecord, constrained: bool = False) -> Any | None:
    """The parsed move, or None when every try was unusable (a forfeit). A re-prompt gives
    the reason and lists the choices after `legal_label` ("Legal moves"). The loop is
    tournaments.kit.reask's; a failed call fails the match (it is replayed), as before.
    `constrained`: the call carries the legal list as a format (Constraint(choices=...)), so a
    backend that enforces it can only answer a legal move (and no legal-move pair comes of it)."""
    variant = ctx.seats[seat]

    def check(text: str) -> Any:
        move, reason = parse(text)
        if move is None:
            raise FormatError(reason)
        return move

    got = await ask_checked(ctx, variant, PLAYER, messages, check, max_tokens=max_tokens, retries=max_retries,
                            what="move", seat=seat, choices=choices,
                            reprompt=lambda reason: f"{reason}. {legal_label}: {' '.join(choices)}. "
                                                    "Reply with one of them only.",
                            constraint=Constraint(choices=choices) if constrained else None)
    if constrained:
        got.count_constrained(record.details, "move")
    for reason in got.reasons:
        kind = "unparseable" if reason.startswith("no ") else "illegal-move"
        record.failures.append(FormatFailure(variant, seat, PLAYER, kind, f"ply {ply}: {reason}"))
    if got.ok and got.reasons:
        unusable = list(zip(got.answers[:-1], got.prompts[:-1]))
        record.corrections.append(correction(variant, seat, messages, written(got.value, choices, parse, got.text),
                                             unusable))
    return got.value


def written(move: Any, choices: tuple[str, ...], parse: Parse, answer: str) -> str:
    """The move as the legal list writes it (what the player should have answered), else the answer."""
    for choice in choices:
        if parse(choice)[0] == move:
            return choice
    return answer


def correction(variant: str, seat: int, prompt: Messages, legal: str,
               unusable: list[tuple[str, Messages]]) -> RankedSet:
    """The legal move over the unusable answers, each under the conversation it replied to
    (the first under the position's prompt, later ones under their re-prompts)."""
    entries = [Entry(variant, legal, 0, 1.0, seat, verified=True)]
    entries += [Entry(variant, text, 1, 0.0, seat, prompt=None if asked == list(prompt) else list(asked))
                for text, asked in unusable]
    return RankedSet(PLAYER, list(prompt), entries, criterion=LEGAL_MOVE, rated=False, exportable=True,
                     ranked_by="rule")
