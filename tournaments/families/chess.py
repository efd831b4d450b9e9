"""Chess, refereed procedurally: python-chess holds the rules.

Each turn the player sees its colour, the position (FEN), the moves so far and the
legal moves, and answers with one move in SAN or UCI. The first legal move found in
the answer is played. An illegal or unparseable answer is re-prompted with the reason
up to `max_retries` times; then the player forfeits (tournaments/kit/moves.py). Those are
format failures, recorded apart from losses on the board; a move corrected on a
re-prompt also yields a "legal-move" ranked set for the preference export.

Adjudication at the ply limit (`max_plies`): the side ahead by at least
`adjudicate_margin` points of material (P=1, N=B=3, R=5, Q=9) wins; otherwise a draw.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import chess
import chess.pgn

from arena.engine.family import option, reject_unknown
from arena.records import PLAYER, Entry, FormatFailure, MatchResult, RankedSet
from tournaments.kit.moves import MoveRecord, ask_move

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

    name: str = "chess"
    seats: int = 2
    open_ended: bool = False

    async def play(self, ctx) -> MatchResult:
        board = chess.Board()
        record = MoveRecord()
        forfeit: int | None = None
        sans: list[str] = []
        while not board.is_game_over(claim_draw=True) and board.ply() < self.max_plies:
            seat = 0 if board.turn == chess.WHITE else 1
            move = await self._ask_move(ctx, board, seat, sans, record)
            if move is None:
                forfeit = seat
                record.failures.append(FormatFailure(ctx.seats[seat], seat, PLAYER, "forfeit",
                                              f"no legal move after {self.max_retries + 1} tries at ply {board.ply() + 1}"))
                ctx.log("forfeit", seat=seat, variant=ctx.seats[seat], ply=board.ply() + 1)
                break
            san = board.san(move)
            sans.append(san)
            board.push(move)
            ctx.log("move", ply=board.ply(), seat=seat, san=san, uci=move.uci())
        scores, termination = self._score(board, forfeit)
        return self._result(ctx, board, sans, scores, termination, record)

    async def _ask_move(self, ctx, board: chess.Board, seat: int, sans: list[str],
                        record: MoveRecord) -> chess.Move | None:
        legal = sorted(board.san(m) for m in board.legal_moves)
        messages = [*FORMAT_EXAMPLE, {"role": "user", "content": self._prompt(board, seat, sans, legal)}]
        return await ask_move(ctx, seat, messages, lambda text: parse_move(board, text), choices=tuple(legal),
                              legal_label="Legal moves", ply=board.ply() + 1,
                              max_retries=self.max_retries, max_tokens=self.max_tokens, record=record)

    def _prompt(self, board: chess.Board, seat: int, moves: list[str], legal: list[str]) -> str:
        recent = moves[-self.history_moves:]
        history = " ".join(recent) if recent else "(none, you move first)"
        if len(moves) > len(recent):
            history = "... " + history
        return (f"You play {COLOURS[seat]}. Position (FEN): {board.fen()}\n"
                f"Moves so far: {history}\n"
                f"Pick one move from the list (SAN or UCI). Legal moves: {' '.join(legal)}")

    def _score(self, board: chess.Board, forfeit: int | None) -> tuple[list[float], str]:
        if forfeit is not None:
            scores = [1.0, 1.0]
            scores[forfeit] = 0.0
            return scores, f"{COLOURS[forfeit]} forfeits (no legal move)"
        outcome = board.outcome(claim_draw=True)
        if outcome is not None:
            if outcome.winner is None:
                return [0.5, 0.5], outcome.termination.name.lower().replace("_", " ")
            return ([1.0, 0.0] if outcome.winner == chess.WHITE else [0.0, 1.0]), outcome.termination.name.lower()
        diff = material(board, chess.WHITE) - material(board, chess.BLACK)
        if diff >= self.adjudicate_margin:
            return [1.0, 0.0], f"adjudicated at ply {board.ply()}: White ahead by {diff} in material"
        if -diff >= self.adjudicate_margin:
            return [0.0, 1.0], f"adjudicated at ply {board.ply()}: Black ahead by {-diff} in material"
        return [0.5, 0.5], f"adjudicated draw at ply {board.ply()} (material {diff:+d})"

    def _result(self, ctx, board: chess.Board, moves: list[str], scores: list[float], termination: str,
                record: MoveRecord) -> MatchResult:
        game = chess.pgn.Game.from_board(board)
        game.headers["White"], game.headers["Black"] = ctx.seats[0], ctx.seats[1]
        game.headers["Event"] = f"arena {ctx.match.tournament_id}"
        game.headers["Result"] = _pgn_result(scores)
        entries = []
        for seat in (0, 1):
            own = " ".join(moves[seat::2])
            rank = 0 if scores[seat] >= scores[1 - seat] else 1
            entries.append(Entry(ctx.seats[seat], own, rank, scores[seat], seat))
        outcome = RankedSet(PLAYER, [{"role": "user", "content": "Play a game of chess."}], entries,
                            criterion="outcome", exportable=False)
        score_txt = f"{_fmt(scores[0])}-{_fmt(scores[1])}"
        details: dict[str, Any] = {"pgn": str(game), "termination": termination, "plies": board.ply(),
                                   "final_fen": board.fen(), "scores": scores}
        return MatchResult([outcome, *record.corrections], summary=f"{score_txt} {termination}",
                           failures=record.failures, details=details)


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


def _fmt(x: float) -> str:
    return "½" if x == 0.5 else str(int(x))


def _pgn_result(scores: list[float]) -> str:
    return "1/2-1/2" if scores[0] == scores[1] else ("1-0" if scores[0] > scores[1] else "0-1")


def create(options: dict[str, Any]) -> ChessFamily:
    known = {"max_plies", "max_retries", "adjudicate_margin", "max_tokens", "history_moves"}
    reject_unknown(options, known, "chess")
    return ChessFamily(
        max_plies=option(options, "max_plies", 60, int, "chess", minimum=1),
        max_retries=option(options, "max_retries", 2, int, "chess", minimum=0),
        adjudicate_margin=option(options, "adjudicate_margin", 3, int, "chess", minimum=1),
        max_tokens=option(options, "max_tokens", 10, int, "chess", minimum=1),
        history_moves=option(options, "history_moves", 12, int, "chess", minimum=0),
    )
