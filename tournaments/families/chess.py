"""Chess, refereed procedurally: python-chess holds the rules.

Each turn the player sees its colour, the position (FEN), the moves so far and the
legal moves, and answers with one move in SAN or UCI. The first legal move found in
the answer is played. An illegal or unparseable answer is re-prompted with the reason
up to `max_retries` times; then the player forfeits (tournaments/kit/moves.py). Those are
format failures, recorded apart from losses on the board; a move corrected on a
re-prompt also yields a "legal-move" ranked set for the preference export. With
`constrained = true` each move is asked under the legal list as a format the backend
enforces, so every move is legal (and no correction pairs come of it).

Adjudication at the ply limit (`max_plies`): the side ahead by at least
`adjudicate_margin` points of material (P=1, N=B=3, R=5, Q=9) wins; otherwise a draw.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import chess
import chess.pgn

from arena.engine.family import family_options
from arena.records import MatchResult, Messages
from arena.schema import Schema, setting
from tournaments.kit.board import play_game

PIECE_VALUES = {chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5, chess.QUEEN: 9}
COLOURS = ("White", "Black")
# A one-shot example of the answer format: small models follow a shown exchange far
# more reliably than an instruction (measured on SmolLM2-135M: 15/24 legal vs 5/24).
FORMAT_EXAMPLE = (
    {"role": "user", "content": "You play chess. Pick one move from the list. Legal moves: e4 d4 Nf3 c4"},
    {"role": "assistant", "content": "Nf3"},
)
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9=+#\-]*")


@dataclass
class ChessFamily:
    max_plies: int = 60
    max_retries: int = 2
    adjudicate_margin: int = 3
    max_tokens: int = 10
    history_moves: int = 12  # how many recent moves the prompt shows
    # Moves asked under the legal list as a format the backend enforces (a grammar, structured
    # outputs, a forced tool): every move is legal. Off by default, so unconstrained play keeps
    # its re-prompts and the legal-move correction pairs they yield.
    constrained: bool = False

    name: str = "chess"
    seats: int = 2
    open_ended: bool = False

    async def play(self, ctx) -> MatchResult:
        return await play_game(ctx, ChessGame(self), max_retries=self.max_retries, max_tokens=self.max_tokens,
                               constrained=self.constrained)


class ChessGame:
    """One game under the family's options (tournaments/kit/board.py runs it); python-chess holds the position."""

    title, sides, noun = "chess", COLOURS, "move"

    def __init__(self, family: ChessFamily):
        self.family = family
        self.board = chess.Board()
        self.sans: list[str] = []

    def legal_moves(self) -> list[str]:
        return sorted(self.board.san(m) for m in self.board.legal_moves)

    def prompt(self, seat: int, legal: list[str]) -> Messages:
        recent = self.sans[-self.family.history_moves:]
        history = " ".join(recent) if recent else "(none, you move first)"
        if len(self.sans) > len(recent):
            history = "... " + history
        return [*FORMAT_EXAMPLE, {"role": "user", "content": (
            f"You play {COLOURS[seat]}. Position (FEN): {self.board.fen()}\n"
            f"Moves so far: {history}\n"
            f"Pick one move from the list (SAN or UCI). Legal moves: {' '.join(legal)}")}]

    def parse(self, text: str) -> tuple[chess.Move | None, str]:
        return parse_move(self.board, text)

    def apply(self, move: chess.Move) -> tuple[str, dict[str, Any]]:
        san = self.board.san(move)
        self.sans.append(san)
        self.board.push(move)
        return san, {"san": san, "uci": move.uci()}

    def outcome(self) -> tuple[list[float], str] | None:
        board = self.board
        outcome = board.outcome(claim_draw=True)
        if outcome is not None:
            if outcome.winner is None:
                return [0.5, 0.5], outcome.termination.name.lower().replace("_", " ")
            return ([1.0, 0.0] if outcome.winner == chess.WHITE else [0.0, 1.0]), outcome.termination.name.lower()
        if board.ply() < self.family.max_plies:
            return None
        diff = material(board, chess.WHITE) - material(board, chess.BLACK)
        if diff >= self.family.adjudicate_margin:
            return [1.0, 0.0], f"adjudicated at ply {board.ply()}: White ahead by {diff} in material"
        if -diff >= self.family.adjudicate_margin:
            return [0.0, 1.0], f"adjudicated at ply {board.ply()}: Black ahead by {-diff} in material"
        return [0.5, 0.5], f"adjudicated draw at ply {board.ply()} (material {diff:+d})"

    def record(self, ctx, scores: list[float]) -> dict[str, Any]:
        game = chess.pgn.Game.from_board(self.board)
        game.headers["White"], game.headers["Black"] = ctx.seats[0], ctx.seats[1]
        game.headers["Event"] = f"arena {ctx.match.tournament_id}"
        game.headers["Result"] = _pgn_result(scores)
        return {"pgn": str(game)}

    def position(self) -> dict[str, Any]:
        return {"final_fen": self.board.fen()}


def parse_move(board: chess.Board, text: str) -> tuple[chess.Move | None, str]:
    """The first legal move in the answer, SAN or UCI; else the reason it is not one."""
    tokens = TOKEN.findall(text or "")
    if not tokens:
        return None, "no move found in the answer"
    illegal = None
    for raw in tokens[:40]:
        token = raw.rstrip("+#!?.,;:")
        if token.upper() in ("O-O", "O-O-O", "0-0", "0-0-0"):
            token = token.upper().replace("0", "O")
        try:
            return board.parse_san(token), ""
        except chess.IllegalMoveError:
            illegal = illegal or token
        except (chess.InvalidMoveError, chess.AmbiguousMoveError, ValueError):
            pass
        if 4 <= len(token) <= 5:
            try:
                move = chess.Move.from_uci(token.lower())
            except (chess.InvalidMoveError, ValueError):
                continue
            if move in board.legal_moves:
                return move, ""
            illegal = illegal or token
    if illegal:
        return None, f"{illegal} is not a legal move here"
    return None, "no move found in the answer"


def material(board: chess.Board, colour: chess.Color) -> int:
    return sum(len(board.pieces(piece, colour)) * value for piece, value in PIECE_VALUES.items())


def _pgn_result(scores: list[float]) -> str:
    return "1/2-1/2" if scores[0] == scores[1] else ("1-0" if scores[0] > scores[1] else "0-1")


class ChessOptions(Schema):
    """[families.chess]"""
    max_plies: int = setting(60, ge=1)
    max_retries: int = setting(2, ge=0)
    adjudicate_margin: int = setting(3, ge=1)
    max_tokens: int = setting(10, ge=1)
    history_moves: int = setting(12, ge=0)
    constrained: bool = setting(False, must="true or false")


def create(options: dict[str, Any]) -> ChessFamily:
    return ChessFamily(**family_options(ChessOptions, options, "chess").model_dump())
