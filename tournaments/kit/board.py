"""A two-player board game played move by move: the match loop chess and Connect Four share.

A family supplies the rules as a `BoardGame` (its position, legal moves, how an answer is parsed,
when the game is over); `play_game` runs the match. Seats alternate, seat 0 first. Each move is
asked through tournaments/kit/moves.py (re-prompted with the reason, then a forfeit), applied and
logged, until the game reports an outcome. The result holds one "outcome" set over the two whole
games, rated and never exported, plus the legal-move corrections the move loop collected.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from arena.records import PLAYER, Entry, FormatFailure, MatchResult, Messages, RankedSet
from tournaments.kit.moves import MoveRecord, ask_move

if TYPE_CHECKING:
    from arena.engine.match import MatchContext

# (scores by seat, how the game ended), e.g. ([1.0, 0.0], "checkmate")
Outcome = tuple[list[float], str]


class BoardGame(Protocol):
    """One game in progress: the family's rules and position; `play_game` never looks inside."""

    title: str  # "chess": the outcome set's prompt is "Play a game of chess."
    sides: tuple[str, str]  # what seats 0 and 1 are called in a result: ("White", "Black")
    noun: str  # what one move is called: "column" gives "Legal columns: ..." and "no legal column"

    def legal_moves(self) -> list[str]:
        """The legal moves as the player may write them, in the order the prompt lists them."""

    def prompt(self, seat: int, legal: list[str]) -> Messages:
        """The conversation that asks `seat` for its move (a re-prompt is added by the move loop)."""

    def parse(self, text: str) -> tuple[Any, str]:
        """(move, "") for a legal answer, else (None, why not); a reason starting "no " means
        nothing resembling a move was found."""

    def apply(self, move: Any) -> tuple[str, dict[str, Any]]:
        """Play `move`; return how the game record writes it and the fields of its "move" event."""

    def outcome(self) -> Outcome | None:
        """None while the game goes on; checked before every move."""

    def record(self, ctx: "MatchContext", scores: list[float]) -> dict[str, Any]:
        """The game as played, first in the match details: {"pgn": ...} or {"moves": [...]}."""

    def position(self) -> dict[str, Any]:
        """The final position, in the details after the termination: {"board": ...}."""


async def play_game(ctx: "MatchContext", game: BoardGame, *, max_retries: int, max_tokens: int,
                    constrained: bool = False) -> MatchResult:
    """`constrained`: each move is asked under the legal list as a format (tournaments/kit/moves.py)."""
    record = MoveRecord()
    moves: list[str] = []
    while (result := game.outcome()) is None:
        seat = len(moves) % 2
        legal = game.legal_moves()
        move = await ask_move(ctx, seat, game.prompt(seat, legal), game.parse, choices=tuple(legal),
                              legal_label=f"Legal {game.noun}s", ply=len(moves) + 1,
                              max_retries=max_retries, max_tokens=max_tokens, record=record,
                              constrained=constrained)
        if move is None:
            result = _forfeit(ctx, game, seat, len(moves) + 1, max_retries, record)
            break
        written, event = game.apply(move)
        moves.append(written)
        ctx.log("move", ply=len(moves), seat=seat, **event)
    return _result(ctx, game, moves, result, record)


def _forfeit(ctx, game: BoardGame, seat: int, ply: int, max_retries: int, record: MoveRecord) -> Outcome:
    record.failures.append(FormatFailure(ctx.seats[seat], seat, PLAYER, "forfeit",
                                         f"no legal {game.noun} after {max_retries + 1} tries at ply {ply}"))
    ctx.log("forfeit", seat=seat, variant=ctx.seats[seat], ply=ply)
    scores = [1.0, 1.0]
    scores[seat] = 0.0
    return scores, f"{game.sides[seat]} forfeits (no legal {game.noun})"


def _result(ctx, game: BoardGame, moves: list[str], outcome: Outcome, record: MoveRecord) -> MatchResult:
    scores, termination = outcome
    entries = []
    for seat in (0, 1):
        rank = 0 if scores[seat] >= scores[1 - seat] else 1
        entries.append(Entry(ctx.seats[seat], " ".join(moves[seat::2]), rank, scores[seat], seat))
    # The entries are whole games, not answers to one prompt: rated, never exported as pairs.
    ranked = RankedSet(PLAYER, [{"role": "user", "content": f"Play a game of {game.title}."}], entries,
                       criterion="outcome", exportable=False, ranked_by="rule")
    details = {**game.record(ctx, scores), "termination": termination, "plies": len(moves),
               **game.position(), "scores": scores, **record.details}
    return MatchResult([ranked, *record.corrections], summary=f"{score_text(scores)} {termination}",
                       failures=record.failures, details=details)


def score_text(scores: list[float]) -> str:
    """"1-0", "0-1" or "½-½"."""
    return "-".join("½" if s == 0.5 else str(int(s)) for s in scores)
