"""Matches: a filterable list (family, variant, outcome, failed only); opening one shows the
whole match. Format failures: every answer a family could not read, with its match id."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Footer, Header, Input, Static, TextArea


class MatchesScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def __init__(self, failed: bool = False):
        super().__init__()
        self.failed = failed
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="where", classes="title", markup=False)
        with Horizontal(classes="row"):
            yield Input(placeholder="family", id="family")
            yield Input(placeholder="variant", id="variant")
            yield Input(placeholder="outcome text", id="outcome")
            yield Checkbox("failed", self.failed, id="failed")
        yield DataTable(id="matches", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.run_dir = self.app.current_run()
        self.query_one("#where", Static).update(f"Matches of {self.run_dir.name}  (enter: the match in full)")
        for label, width in (("id", 10), ("family", 12), ("seats", 20), ("status", 8), ("result", 60)):
            self.query_one(DataTable).add_column(label, width=width)
        self.reload()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.reload()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="read", exit_on_error=False)
    def reload(self) -> None:
        from arena.cli.dash.data import matches
        f = {k: self.query_one(f"#{k}", Input).value.strip() for k in ("family", "variant", "outcome")}
        failed = self.query_one("#failed", Checkbox).value
        rows = matches(self.run_dir, failed=failed, **f) if (self.run_dir / "arena.sqlite").exists() else []
        self.app.call_from_thread(self.show, rows)

    def show(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        table.clear()
        for m in rows:
            table.add_row(m["id"][:10], m["family"], " vs ".join(m["seats"]), m["status"], m["result"][:60])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.rows):
            self.app.open_match(self.run_dir, self.rows[event.cursor_row]["id"])


class MatchScreen(Screen):
    """One match in full: every call with every message, rankings, verdicts, sandbox runs."""
    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def __init__(self, run_dir: Path, match_id: str):
        super().__init__()
        self.run_dir, self.match_id = Path(run_dir), match_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"match {self.match_id}  (arena show {self.match_id[:10]} --run-dir {self.run_dir.name})",
                     classes="title", markup=False)
        yield TextArea("", id="out", read_only=True, soft_wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        from arena.cli.dash.data import match_text
        text = match_text(self.run_dir, self.match_id)
        self.app.call_from_thread(self.query_one(TextArea).load_text, text)


class FailuresScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def __init__(self, run_dir: Path):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Format failures of {self.run_dir.name}  (enter: the match)", classes="title", markup=False)
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("match", "variant", "role", "kind", "detail")
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        from arena.cli.dash.data import format_failures
        rows = format_failures(self.run_dir)
        self.app.call_from_thread(self.show, rows)

    def show(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        for r in rows:
            table.add_row(r["id"][:10], r["variant"], r["role"], r["kind"], r["detail"][:60])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.rows):
            self.app.open_match(self.run_dir, self.rows[event.cursor_row]["id"])
