"""Live view of one run: progress, elapsed time and an ETA weighted by each family's measured
match times, the leaderboard with Bradley-Terry intervals, the latest matches with their ids,
and per model the calls running / queued / limit, tokens, cost, errors and retries (from the
live status file the running `arena run` writes)."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from arena.cli.dash.progress import clock


def bar(done: int, total: int, width: int = 20) -> str:
    filled = int(width * done / total) if total else width
    return "█" * filled + "░" * (width - filled)


class LiveScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back"), Binding("s", "stop", "stop"),
                Binding("f", "failures", "format failures"), Binding("x", "failed", "failed matches"),
                Binding("enter", "open", "open match", show=False)]
    DEFAULT_CSS = """
    LiveScreen #board { height: 7; } LiveScreen #latest { height: 1fr; } LiveScreen #models { height: 5; }
    """

    def __init__(self, run_dir: Path, tournament_id: str | None = None):
        super().__init__()
        self.run_dir, self.tournament_id = Path(run_dir), tournament_id
        self.latest: list[dict[str, Any]] = []
        self.finished = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="head", classes="title", markup=False)
        with Vertical():
            yield DataTable(id="board", cursor_type="none")
            yield DataTable(id="latest", cursor_type="row")
            yield DataTable(id="models", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        # Fixed widths: auto widths are not always recomputed after a clear, and 80 columns must do.
        for ident, columns in (("#board", (("variant", 16), ("mu±σ", 9), ("W/L/D", 9), ("BT strength [95%]", 24))),
                               ("#latest", (("id", 10), ("family", 12), ("seats", 20), ("result", 26))),
                               ("#models", (("variants", 16), ("run/queue/limit", 15), ("calls", 6),
                                            ("tokens in/out", 13), ("cost $", 8), ("err", 3), ("retry", 5)))):
            table = self.query_one(ident, DataTable)
            for label, width in columns:
                table.add_column(label, width=width)
        self.reload()
        self.set_interval(self.app.refresh_s, self.reload)

    @work(thread=True, exclusive=True, group="read", exit_on_error=False)
    def reload(self) -> None:
        from arena.cli.dash import data
        if not (self.run_dir / "arena.sqlite").exists():
            self.app.call_from_thread(self.show, None, [], [])
            return
        try:
            ts = data.tournaments(self.run_dir)
            t = next((x for x in ts if x["id"] == self.tournament_id), ts[-1] if ts else None)
            board = data.leaderboard(self.run_dir)
            latest = data.matches(self.run_dir, limit=50)
        except sqlite3.Error:  # a store being created: its tables come in a moment
            self.app.call_from_thread(self.show, None, [], [])
            return
        if t is not None:
            self.tournament_id = t["id"]
        self.app.call_from_thread(self.show, t, board, latest)

    def show(self, t: dict[str, Any] | None, board: list[dict[str, Any]], latest: list[dict[str, Any]]) -> None:
        head = self.query_one("#head", Static)
        if t is None:
            head.update(f"{self.run_dir.name}: starting…")
            return
        live = t["live"]
        done = t["finished"] + t["failed"]
        timing = (f"elapsed {clock(time.time() - live['started_at'])}  ETA {clock(t['eta'])}" if live
                  else "not running")
        self.finished = t["status"] != "running"
        head.update(f"{t['id']}  [{t['status']}]\n{bar(done, t['total'])} {done}/{t['total']}  {timing}  "
                    f"failed {t['failed']}" + (f"  playing {live['in_flight']}" if live else ""))
        table = self.query_one("#board", DataTable)
        table.clear()
        for r in board:
            bt = "-" if r["bt"] is None else f"{r['bt'][0]:+.2f} [{r['bt'][1]:+.2f}, {r['bt'][2]:+.2f}]"
            table.add_row(r["variant"], f"{r['mu']:.1f}±{r['sigma']:.1f}", f"{r['wins']}/{r['losses']}/{r['draws']}", bt)
        table = self.query_one("#latest", DataTable)
        keep = table.cursor_row
        self.latest = latest
        table.clear()
        for m in latest:
            table.add_row(m["id"][:10], m["family"], " vs ".join(m["seats"]),
                          ("FAILED: " if m["status"] == "failed" else "") + m["result"][:60])
        if latest:
            table.move_cursor(row=min(keep, len(latest) - 1))
        table = self.query_one("#models", DataTable)
        table.clear()
        for st in (t["counters"] or {}).get("models", []):
            table.add_row(", ".join(st["variants"]), f"{st['running']}/{st['queued']}/{st['limit']}", str(st["calls"]),
                          f"{st['tokens_in']}/{st['tokens_out']}",
                          f"{st['cost_usd']:.4f}" if st["priced"] else "unpriced", str(st["errors"]),
                          str(st["retries"]))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one("#latest", DataTable)
        if self.latest and 0 <= table.cursor_row < len(self.latest):
            self.app.open_match(self.run_dir, self.latest[table.cursor_row]["id"])

    def action_stop(self) -> None:
        from arena.cli.dash.procs import stop
        self.notify(stop(self.run_dir))

    def action_failures(self) -> None:
        from arena.cli.dash.matches import FailuresScreen
        self.app.push_screen(FailuresScreen(self.run_dir))

    def action_failed(self) -> None:
        from arena.cli.dash.matches import MatchesScreen
        self.app.run_dir = self.run_dir
        self.app.push_screen(MatchesScreen(failed=True))
