"""Runs: every run directory below the dashboard's folder, with its tournaments, status,
progress and leader (runs launched from anywhere show up: it is the stores that are read)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from arena.cli.dash.progress import clock


class RunsScreen(Screen):
    BINDINGS = [Binding("enter", "open", "live view", show=False), Binding("s", "stop", "stop run")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Runs below " + str(self.app.root.resolve().name or "/") + "  (enter: live view, n: new)",
                     classes="title", markup=False)
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static("", id="note", classes="note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Fixed widths: auto widths are not always recomputed after a clear, and 80 columns must do.
        for label, width in (("run", 10), ("tournament", 20), ("status", 10), ("done", 7), ("leader", 10), ("ETA", 6)):
            table.add_column(label, width=width)
        self.rows: list[dict[str, Any]] = []
        self.reload()
        self.set_interval(self.app.refresh_s, self.reload)

    @work(thread=True, exclusive=True, group="read", exit_on_error=False)
    def reload(self) -> None:
        from arena.cli.dash.data import runs_table
        rows = runs_table(self.app.root)
        self.app.call_from_thread(self.show, rows)

    def show(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        if rows == self.rows and table.row_count == len(rows):
            return  # unchanged: no redraw (a cleared table flickers)
        self.rows = rows
        table.clear()
        for r in rows:
            table.add_row(r["where"], r["id"], r["status"], f"{r['finished'] + r['failed']}/{r['total']}",
                          r["leader"], clock(r["eta"]) if r["status"] == "running" else "-")
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        self.query_one("#note", Static).update(
            "" if rows else "No runs here yet: press n to launch a tournament.")

    def selected(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        return self.rows[table.cursor_row] if self.rows and 0 <= table.cursor_row < len(self.rows) else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        row = self.selected()
        if row is not None:
            self.app.open_live(Path(row["run_dir"]), row["id"])

    def action_stop(self) -> None:
        from arena.cli.dash.procs import stop
        row = self.selected()
        if row is not None:
            self.notify(stop(row["run_dir"]))
