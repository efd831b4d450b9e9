"""Ratings: `arena ratings --role ROLE` on the dashboard: every role (player, author, referee,
meta-referee), one family or all, TrueSkill (mu ± sigma, its 95% interval) or Bradley-Terry (strength
with its 95% bootstrap interval), and the command's extra columns (diversity; a referee's accuracy
and biases)."""
from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from arena.records import ROLES

# (row key, column label, width); then whatever other columns the command gives.
FIXED = (("variant", "variant", 16), ("rating", "rating", 11), ("interval", "95% interval", 16),
         ("matches", "matches", 7), ("W/L/D", "W/L/D", 9))


def show_rows(table: DataTable, fixed: tuple[tuple[str, str, int], ...], rows: list[dict[str, Any]]) -> None:
    """Refill a table: its fixed columns, then whatever other columns the rows carry."""
    from arena.cli.dash.tables import cell
    keys = [k for k, _, _ in fixed]
    extra: list[str] = []
    for r in rows:
        extra += [k for k in r if k not in keys and k not in extra]
    table.clear(columns=True)
    for _, label, width in fixed:
        table.add_column(label, width=width)
    for k in extra:
        table.add_column(k, width=max(len(k), 6))
    for r in rows:
        table.add_row(*(cell(r.get(k)) for k in keys + extra))


class RatingsScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="where", classes="title", markup=False)
        with Horizontal(classes="row"):
            yield Select([(r, r) for r in ROLES], value="player", allow_blank=False, id="role",
                         compact=True)
            yield Select([("TrueSkill", "trueskill"), ("Bradley-Terry", "bt")], value="trueskill",
                         allow_blank=False, id="method", compact=True)
            yield Input("*", placeholder="family (* all)", id="family", compact=True)
        yield DataTable(id="ratings", cursor_type="row", zebra_stripes=True)
        yield Static("", id="note", classes="note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.run_dir = self.app.current_run()
        self.rows: list[dict[str, Any]] = []
        self.query_one("#where", Static).update(f"Ratings in {self.run_dir.name}  (arena ratings --role ...)")
        self.reload()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="read", exit_on_error=False)
    def reload(self) -> None:
        from arena.cli.dash.tables import rated_families, ratings
        from arena.errors import UserError
        role, method = str(self.query_one("#role", Select).value), str(self.query_one("#method", Select).value)
        family = self.query_one("#family", Input).value.strip() or "*"
        if not (self.run_dir / "arena.sqlite").exists():
            self.app.call_from_thread(self.show, [], f"no store in {self.run_dir.name} yet")
            return
        try:
            known = rated_families(self.run_dir)
            if family != "*" and family not in known:  # the command's own refusal
                raise UserError(f"no ratings for family {family[:60]!r} (rated families: {', '.join(known) or 'none'})")
            rows = ratings(self.run_dir, role, family, method)
        except UserError as exc:
            self.app.call_from_thread(self.show, [], str(exc))
            return
        what = "TrueSkill mu ± sigma, 95% interval mu ± 1.96 sigma" if method == "trueskill" else \
            "Bradley-Terry strength (log scale, field mean 0), 95% bootstrap interval"
        note = f"{role} ratings, family {family}: {what}" if rows else f"no {role} ratings yet in {self.run_dir.name}"
        self.app.call_from_thread(self.show, rows, note)

    def show(self, rows: list[dict[str, Any]], note: str) -> None:
        self.rows = rows
        show_rows(self.query_one(DataTable), FIXED, rows)
        self.query_one("#note", Static).update(note)
