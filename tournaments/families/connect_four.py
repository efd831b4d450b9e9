"""Connect Four, refereed procedurally: the rules decide.

Each turn the player sees its disc, the board and the legal columns, and answers with
one column number. The first number in the answer is played. A full or missing column,
or an answer without a number, is re-prompted with the reason up to `max_retries`
times; then the player forfeits. Those are format failures, recorded apart from
losses on the board. A full board with no line of `connect` is a draw. With
`constrained = true` each column is asked under the legal list as a format the backend enforces.

Connect Four is also the game the benchmark plays against TextArena (whose chess needs
Python >= 3.12): both run it offline, between the same scripted movers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from arena.engine.family import FamilyOptionError, family_options
from arena.records import MatchResult, Messages
from arena.schema import Schema, setting
from tournaments.kit.board import play_game

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
        # The board is shown every turn: each row's text is kept, redrawn only when a disc lands in it.
        self.names = [str(c) for c in range(cols)]  # how each column is written
        self._header = " ".join(self.names)
        self._rows = [" ".join(row) for row in self.grid]
        self._legal: list[int] | None = None  # until the next drop

    def legal(self) -> list[int]:
        """The open columns (asked twice a turn: for the prompt and to check the answer)."""
        if self._legal is None:
            self._legal = [c for c in range(self.cols) if self.heights[c] < self.rows]
        return self._legal

    def drop(self, col: int, disc: str) -> bool:
        """Play `disc` into `col`; True if it completes a line of `connect`."""
        row = self.heights[col]
        grid, rows, cols = self.grid, self.rows, self.cols
        grid[row][col] = disc
        self._rows[row] = " ".join(grid[row])
        self.heights[col] += 1
        self._legal = None
        self.plies += 1
        for dr, dc in DIRECTIONS:  # count the line through the new disc, both ways from it
            run = 1
            r, c = row + dr, col + dc
            while 0 <= r < rows and 0 <= c < cols and grid[r][c] == disc:
                run += 1
                r, c = r + dr, c + dc
            r, c = row - dr, col - dc
            while 0 <= r < rows and 0 <= c < cols and grid[r][c] == disc:
                run += 1
                r, c = r - dr, c - dc
            if run >= self.connect:
                return True
        return False

    def full(self) -> bool:
        return self.plies >= self.rows * self.cols

    def render(self) -> str:
        return "\n".join([self._header, *reversed(self._rows)])


@dataclass
class ConnectFourFamily:
    rows: int = 6
    cols: int = 7
    connect: int = 4
    max_retries: int = 2
    max_tokens: int = 8
    constrained: bool = False  # columns asked under the legal list as an enforced format (as chess's)

    name: str = "connect-four"
    seats: int = 2
    open_ended: bool = False

    async def play(self, ctx) -> MatchResult:
        return await play_game(ctx, ConnectFourGame(self), max_retries=self.max_retries, max_tokens=self.max_tokens,
                               constrained=self.constrained)


class ConnectFourGame:
    """One game under the family's options, run by tournaments/kit/board.py."""

    title, sides, noun = "Connect Four", DISCS, "column"

    def __init__(self, family: ConnectFourFamily):
        self.connect = family.connect
        self.board = Board(family.rows, family.cols, family.connect)
        self.moves: list[int] = []
        self.winner: int | None = None

    def legal_moves(self) -> list[str]:
        names = self.board.names
        return [names[c] for c in self.board.legal()]

    def prompt(self, seat: int, legal: list[str]) -> Messages:
        return [*FORMAT_EXAMPLE, {"role": "user", "content": (
            f"You play Connect Four as {DISCS[seat]}; your opponent is {DISCS[1 - seat]}. Drop a disc into a "
            f"column; {self.connect} in a row (across, up or diagonal) wins.\n"
            f"Board (column numbers on top, bottom row last):\n{self.board.render()}\n"
            f"Pick one column from the list. Legal columns: {' '.join(legal)}")}]

    def parse(self, text: str) -> tuple[int | None, str]:
        return parse_column(text, self.board.legal(), self.board.cols)

    def apply(self, col: int) -> tuple[str, dict[str, Any]]:
        seat = len(self.moves) % 2
        self.moves.append(col)
        if self.board.drop(col, DISCS[seat]):
            self.winner = seat
        return str(col), {"column": col}

    def outcome(self) -> tuple[list[float], str] | None:
        if self.winner is not None:
            scores = [0.0, 0.0]
            scores[self.winner] = 1.0
            return scores, f"{DISCS[self.winner]} connects {self.connect}"
        if self.board.full():
            return [0.5, 0.5], f"draw: the board is full with no line of {self.connect}"
        return None

    def record(self, ctx, scores: list[float]) -> dict[str, Any]:
        return {"moves": self.moves}

    def position(self) -> dict[str, Any]:
        return {"board": self.board.render()}


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


class ConnectFourOptions(Schema):
    """[families.connect-four]"""
    rows: int = setting(6, ge=2)
    cols: int = setting(7, ge=2)
    connect: int = setting(4, ge=2)
    max_retries: int = setting(2, ge=0)
    max_tokens: int = setting(8, ge=1)
    constrained: bool = setting(False, must="true or false")


def create(options: dict[str, Any]) -> ConnectFourFamily:
    fam = ConnectFourFamily(**family_options(ConnectFourOptions, options, "connect-four").model_dump())
    if fam.rows > 50 or fam.cols > 50:
        raise FamilyOptionError("[families.connect-four] rows and cols must be at most 50")
    if fam.connect > max(fam.rows, fam.cols):
        raise FamilyOptionError(f"[families.connect-four] connect ({fam.connect}) cannot exceed the board's "
                                f"longer side ({max(fam.rows, fam.cols)})")
    return fam
