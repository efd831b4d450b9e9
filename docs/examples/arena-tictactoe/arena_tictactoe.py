"""Tic-tac-toe for arena, the complete example of a third-party family (docs/extending.md).

The package registers `create` as the `tic-tac-toe` entry point of the `arena.families` group
(pyproject.toml). The board-game base of the kit runs the match (whose turn, asking for a move,
re-prompting with the reason, forfeits, the result); this module holds only the rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from arena.engine.family import family_options
from arena.records import MatchResult, Messages
from arena.schema import Schema, setting
from tournaments.kit.board import play_game

MARKS = ("X", "O")
LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
CELL = re.compile(r"(?<!\d)[1-9](?!\d)")


class Game:
    """One game in progress. Cells are numbered 1 to 9, row by row; an empty cell shows its number."""

    title, sides, noun = "tic-tac-toe", MARKS, "cell"

    def __init__(self) -> None:
        self.marks: list[str | None] = [None] * 9
        self.moves: list[int] = []

    def legal_moves(self) -> list[str]:
        return [str(i + 1) for i, mark in enumerate(self.marks) if mark is None]

    def prompt(self, seat: int, legal: list[str]) -> Messages:
        return [{"role": "user", "content": f"You play tic-tac-toe as {MARKS[seat]}; three in a row wins.\n"
                                            f"Board:\n{self.render()}\n"
                                            f"Pick one cell from the list. Legal cells: {' '.join(legal)}"}]

    def parse(self, text: str) -> tuple[int | None, str]:
        found = CELL.search(text or "")
        if found is None:
            return None, "no cell number found in the answer"  # "no ..." marks an unparseable answer
        if found.group() not in self.legal_moves():
            return None, f"cell {found.group()} is taken"
        return int(found.group()), ""

    def apply(self, cell: int) -> tuple[str, dict[str, Any]]:
        self.marks[cell - 1] = MARKS[len(self.moves) % 2]
        self.moves.append(cell)
        return str(cell), {"cell": cell}  # as the game record writes it, and the "move" event's fields

    def outcome(self) -> tuple[list[float], str] | None:
        for a, b, c in LINES:
            if self.marks[a] is not None and self.marks[a] == self.marks[b] == self.marks[c]:
                scores = [1.0, 0.0] if self.marks[a] == MARKS[0] else [0.0, 1.0]
                return scores, f"{self.marks[a]} has three in a row"
        if None not in self.marks:
            return [0.5, 0.5], "draw: the board is full"
        return None  # the game goes on

    def record(self, ctx, scores: list[float]) -> dict[str, Any]:
        return {"moves": self.moves}

    def position(self) -> dict[str, Any]:
        return {"board": self.render()}

    def render(self) -> str:
        cells = [mark or str(i + 1) for i, mark in enumerate(self.marks)]
        return "\n".join(" ".join(cells[row:row + 3]) for row in (0, 3, 6))


@dataclass
class TicTacToe:
    max_retries: int = 2  # re-prompts after an unusable answer before the player forfeits
    max_tokens: int = 8

    name: str = "tic-tac-toe"
    seats: int = 2
    open_ended: bool = False  # a game with one right reading of every answer, not an open-ended task

    async def play(self, ctx) -> MatchResult:
        return await play_game(ctx, Game(), max_retries=self.max_retries, max_tokens=self.max_tokens)


class Options(Schema):
    """[families.tic-tac-toe] in the config: a misspelt or out-of-range option is one clear error."""

    max_retries: int = setting(2, ge=0)
    max_tokens: int = setting(8, ge=1)


def create(options: dict[str, Any]) -> TicTacToe:
    return TicTacToe(**family_options(Options, options, "tic-tac-toe").model_dump())
