"""Usage: `arena usage` on the dashboard: calls, cached answers, errors, tokens and cost per
tournament x variant x role, as the runs stored them, with the command's total row (its columns
are whatever the store's usage read gives, so one added there shows here)."""
from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from arena.cli.dash.ratings import show_rows

FIXED = (("tournament", "tournament", 18), ("variant", "variant", 14), ("role", "role", 8))
SPEED = (("model", "model", 30),)
NOTE = "tokens and cost count the calls a backend answered; a cached answer costs nothing"


class UsageScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="where", classes="title", markup=False)
        yield Input("", placeholder="tournament id (empty: every tournament; enter)", id="tournament", compact=True)
        yield DataTable(id="usage", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="speeds", cursor_type="row")  # per model, streamed calls only; hidden when none
        yield Static(NOTE, id="note", classes="note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.run_dir = self.app.current_run()
        self.rows: list[dict[str, Any]] = []
        self.speeds: list[dict[str, Any]] = []
        self.query_one("#speeds", DataTable).display = False
        self.query_one("#where", Static).update(f"Usage in {self.run_dir.name}  (arena usage)")
        self.reload()
        self.set_interval(self.app.refresh_s * 5, self.reload)  # a running tournament's calls add up

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="read", exit_on_error=False)
    def reload(self) -> None:
        from arena.cli.dash.tables import usage
        wanted = self.query_one("#tournament", Input).value.strip()
        if not (self.run_dir / "arena.sqlite").exists():
            self.app.call_from_thread(self.show, [], f"no store in {self.run_dir.name} yet")
            return
        rows, total, speeds = usage(self.run_dir, wanted or None)
        if not rows:
            self.app.call_from_thread(self.show, [], [], f"no model calls stored in {self.run_dir.name}"
                                      + (f" for tournament {wanted[:40]!r}" if wanted else ""))
            return
        shown = [*rows, {"tournament": "total", "variant": "", "role": "", **total}]
        self.app.call_from_thread(self.show, shown, speeds, NOTE)

    def show(self, rows: list[dict[str, Any]], speeds: list[dict[str, Any]], note: str) -> None:
        self.query_one("#note", Static).update(note)
        table = self.query_one("#speeds", DataTable)
        table.display = bool(speeds)
        if speeds != self.speeds:
            self.speeds = speeds
            show_rows(table, SPEED, speeds)
        if rows == self.rows and self.query_one("#usage", DataTable).row_count == len(rows):
            return  # unchanged: no redraw (a cleared table flickers)
        self.rows = rows
        show_rows(self.query_one("#usage", DataTable), FIXED, rows)
