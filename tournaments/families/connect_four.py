"""Connect Four, refereed procedurally: the rules decide.

Each turn the player sees its disc, the board and the legal columns, and answers with
one column number. The first number in the answer is played. A full or missing column,
or an answer without a number, is re-prompted with the reason up to `max_retries`
times; then the player forfeits. Those are format failures, recorded apart from
losses on the board. A full board with no line of `connect` is a draw.

Connect Four is also the game the benchmark plays against TextArena (whose chess needs
Python >= 3.12): both run it offline, between the same scripted movers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from arena.engine.family import FamilyOptionError, option, reject_unknown
from arena.records import PLAYER, Entry, FormatFailure, MatchResult, RankedSet
from tournaments.kit.moves import MoveRecord, ask_move

DISCS = ("X", "O")
EMPTY = "."
# A shown exchange teaches a small model the answer format better than an instruction.
FORMAT_EXAMPLE = (
    {"role": "user", "content": "You play Connect Four. Pick one column from the list. Legal columns: 0 1 2 3 4 5 6"},
    {"role": "assistant", "content": "3"},
)
NUMBER = re.compile(r"(?<!\d)\d+(?!\d)")
DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


class Board:
    """rows x cols grid; row 0 is the bottom. Discs are 'X' (seat 0) and 'O' (seat 1)."""

    def __init__(self, rows: int, cols: int, connect: int):
        self.rows, self.cols, self.connect = rows, cols, connect
        self.grid = [[EMPTY] * cols for _ in range(rows)]
        self.heights = [0] * cols
        self.plies = 0

    def legal(self) -> list[int]:
        return [c for c in range(self.cols) if self.heights[c] < self.rows]

    def drop(self, col: int, disc: str) -> bool:
        """Play `disc` into `col`; True if it completes a line of `connect`."""
        row = self.heights[col]
        self.grid[row][col] = disc
        self.heights[col] += 1
        self.plies += 1
        for dr, dc in DIRECTIONS:
            run = 1
            for sign in (1, -1):
                r, c = row + sign * dr, col + sign * dc
                while 0 <= r < self.rows and 0 <= c < self.cols and self.grid[r][c] == disc:
                    run += 1
                    r, c = r + sign * dr, c + sign * dc
            if run >= self.connect:
                return True
        return False

    def full(self) -> bool:
        return self.plies >= self.rows * self.cols

    def render(self) -> str:
        header = " ".join(str(c) for c in range(self.cols))
        return "\n".join([header, *(" ".join(self.grid[r]) for r in range(self.rows - 1, -1, -1))])


@dataclass
class ConnectFourFamily:
    rows: int = 6
    cols: int = 7
    connect: int = 4
    max_retries: int = 2
    max_tokens: int = 8

    name: str = "connect-four"
    seats: int = 2
    open_ended: bool = False

    async def play(self, ctx) -> MatchResult:
        board = Board(self.rows, self.cols, self.connect)
        record = MoveRecord()
        moves: list[int] = []
        scores, termination = [0.5, 0.5], f"draw: the board is full with no line of {self.connect}"
        while not board.full():
            seat = board.plies % 2
            col = await self._ask_column(ctx, board, seat, record)
            if col is None:
                record.failures.append(FormatFailure(ctx.seats[seat], seat, PLAYER, "forfeit",
                                              f"no legal column after {self.max_retries + 1} tries at ply "
                                              f"{board.plies + 1}"))
                ctx.log("forfeit", seat=seat, variant=ctx.seats[seat], ply=board.plies + 1)
                scores = [1.0, 1.0]
                scores[seat] = 0.0
                termination = f"{DISCS[seat]} forfeits (no legal column)"
                break
            moves.append(col)
            won = board.drop(col, DISCS[seat])
            ctx.log("move", ply=board.plies, seat=seat, column=col)
            if won:
                scores = [0.0, 0.0]
                scores[seat] = 1.0
                termination = f"{DISCS[seat]} connects {self.connect}"
                break
        return self._result(ctx, board, moves, scores, termination, record)

    async def _ask_column(self, ctx, board: Board, seat: int, record: MoveRecord) -> int | None:
        legal = board.legal()
        choices = tuple(str(c) for c in legal)
        messages = [*FORMAT_EXAMPLE, {"role": "user", "content": self._prompt(board, seat, choices)}]
        return await ask_move(ctx, seat, messages, lambda text: parse_column(text, legal, board.cols),
                              choices=choices, legal_label="Legal columns",
                              ply=board.plies + 1, max_retries=self.max_retries, max_tokens=self.max_tokens,
                              record=record)

    def _prompt(self, board: Board, seat: int, choices: tuple[str, ...]) -> str:
        return (f"You play Connect Four as {DISCS[seat]}; your opponent is {DISCS[1 - seat]}. Drop a disc into a "
                f"column; {self.connect} in a row (across, up or diagonal) wins.\n"
                f"Board (column numbers on top, bottom row last):\n{board.render()}\n"
                f"Pick one column from the list. Legal columns: {' '.join(choices)}")

    def _result(self, ctx, board: Board, moves: list[int], scores: list[float], termination: str,
                record: MoveRecord) -> MatchResult:
        entries = []
        for seat in (0, 1):
            rank = 0 if scores[seat] >= scores[1 - seat] else 1
            entries.append(Entry(ctx.seats[seat], " ".join(str(c) for c in moves[seat::2]), rank, scores[seat], seat))
        # The entries are whole games, not answers to one prompt: rated, never exported as pairs.
        outcome = RankedSet(PLAYER, [{"role": "user", "content": "Play a game of Connect Four."}], entries,
                            criterion="outcome", exportable=False)
        score_txt = "-".join("½" if s == 0.5 else str(int(s)) for s in scores)
        details: dict[str, Any] = {"moves": moves, "termination": termination, "plies": board.plies,
                                   "board": board.render(), "scores": scores}
        return MatchResult([outcome, *record.corrections], summary=f"{score_txt} {termination}",
                           failures=record.failures, details=details)


def parse_column(text: str | None, legal: list[int], cols: int) -> tuple[int | None, str]:
    """The first number in the answer if it is a legal column; else the reason it is not."""
    found = NUMBER.search(text or "")
    if found is None:
        return None, "no column number found in the answer"
    digits = found.group()
    if len(digits) > len(str(cols)):  # also keeps int() away from absurdly long digit runs
        return None, f"column {digits[:12]} does not exist (columns are 0 to {cols - 1})"
    col = int(digits)
    if col in legal:
        return col, ""
    if col >= cols:
        return None, f"column {col} does not exist (columns are 0 to {cols - 1})"
    return None, f"column {col} is full"


def create(options: dict[str, Any]) -> ConnectFourFamily:
    known = {"rows", "cols", "connect", "max_retries", "max_tokens"}
    reject_unknown(options, known, "connect-four")
    fam = ConnectFourFamily(
        rows=option(options, "rows", 6, int, "connect-four", minimum=2),
        cols=option(options, "cols", 7, int, "connect-four", minimum=2),
        connect=option(options, "connect", 4, int, "connect-four", minimum=2),
        max_retries=option(options, "max_retries", 2, int, "connect-four", minimum=0),
        max_tokens=option(options, "max_tokens", 8, int, "connect-four", minimum=1),
    )
    if fam.rows > 50 or fam.cols > 50:
        raise FamilyOptionError("[families.connect-four] rows and cols must be at most 50")
    if fam.connect > max(fam.rows, fam.cols):
        raise FamilyOptionError(f"[families.connect-four] connect ({fam.connect}) cannot exceed the board's "
                                f"longer side ({max(fam.rows, fam.cols)})")
    return fam
