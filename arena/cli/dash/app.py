"""The dashboard app: the screens and the keys between them. Which run directory the screens
work on is the app's `run_dir` (the one chosen on the Runs screen, else the first found)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding

from arena.cli.common import DEFAULT_RUN_DIR

HELP = """Keys (also in the command palette, Ctrl+P):
  r  runs (every run directory below this folder)     n  new tournament
  enter  on a run: its live view; on a match: the match in full
  m  matches (filter by family, variant, outcome, failed)
  c  compare two variants or a lineage (and play N more)
  t  ratings of any role (player, author, referee, meta-referee), intervals
  u  usage: calls, cached, errors, tokens, cost per tournament, variant, role
  e  export (DPO pairs, soft targets, matches, report)
  l  the training loop, generation by generation
  s  stop the run shown (as Ctrl-C)
  f  format failures    x  failed matches           escape  back    q  quit
Runs are processes of their own: quit and reopen, and a running tournament is still there."""


class DashApp(App):
    TITLE = "arena"
    CSS = """
    Screen { layout: vertical; }
    .title { text-style: bold; padding: 0 1; }
    .error { color: $error; padding: 0 1; height: auto; }
    .note { color: $text-muted; padding: 0 1; height: auto; }
    .row { height: auto; }
    .row Input { width: 1fr; }
    .row Label { width: 22; padding: 1 1 0 0; }
    Input.-invalid { border: tall $error; }
    DataTable { height: 1fr; }
    #out { height: 1fr; border: round $panel; }
    /* The New tournament form: one line a field, so a section fits in 80x24; a field's error
       line shows only when it has one. */
    NewScreen .row Input { height: 1; border: none; padding: 0 1; background: $boost; }
    NewScreen .row Input.-invalid { border: none; background: $error 30%; }
    NewScreen .row Label { padding: 0 1 0 0; }
    NewScreen .error { display: none; }
    NewScreen .error.-shown { display: block; }
    NewScreen SelectionList { height: auto; max-height: 8; }
    NewScreen Collapsible { padding: 0 0 0 1; border-top: none; }
    NewScreen CollapsibleTitle { padding: 0 1; }
    /* Export, Loop and Ratings: one line a field too (the app's CSS outranks a screen's DEFAULT_CSS). */
    ExportScreen .row { height: 1; }
    ExportScreen .row Label { width: 13; padding: 0 1 0 0; }
    ExportScreen .row Input { width: 1fr; margin-right: 1; }
    ExportScreen .row Select { width: 1fr; margin-right: 1; }
    ExportScreen #buttons { height: 1; margin-top: 1; }
    ExportScreen #buttons Button { margin-right: 2; }
    LoopScreen .row { height: 1; }
    LoopScreen .row Label { width: 14; padding: 0 1 0 0; }
    LoopScreen .row Input { width: 1fr; margin-right: 1; }
    LoopScreen .row Select { width: 1fr; margin-right: 1; }
    LoopScreen .error { height: auto; }
    LoopScreen #gens { height: 6; }
    LoopScreen #findings { height: auto; max-height: 2; }
    LoopScreen #out { height: 1fr; }
    LoopScreen .row Input.-invalid { border: none; background: $error 30%; }
    RatingsScreen .row { height: 1; margin-bottom: 1; }
    RatingsScreen .row Select { width: 22; margin-right: 1; }
    RatingsScreen .row Input { width: 1fr; }
    UsageScreen #speeds { height: auto; max-height: 6; }
    """
    BINDINGS = [
        Binding("q", "quit", "quit"),
        Binding("question_mark", "help", "help"),
        Binding("r", "screen('runs')", "runs"),
        Binding("n", "screen('new')", "new"),
        Binding("m", "screen('matches')", "matches"),
        Binding("c", "screen('compare')", "compare"),
        Binding("e", "screen('export')", "export"),
        Binding("l", "screen('loop')", "loop"),
        Binding("t", "screen('ratings')", "ratings"),
        Binding("u", "screen('usage')", "usage"),
    ]

    def __init__(self, root: str | Path = ".", refresh_s: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.root = Path(root)
        self.refresh_s = refresh_s  # how often screens re-read the stores (tests: faster)
        self.run_dir: Path | None = None

    def current_run(self) -> Path:
        """The run the screens work on: the chosen one, else the first below root, else a new one."""
        if self.run_dir is None:
            from arena.cli.dash.data import find_runs
            found = find_runs(self.root)
            self.run_dir = found[0] if found else self.root / DEFAULT_RUN_DIR
        return self.run_dir

    def on_mount(self) -> None:
        from arena.cli.dash.runs import RunsScreen
        self.push_screen(RunsScreen())

    def action_screen(self, name: str) -> None:
        from arena.cli.dash import compare, export, loop, matches, new, ratings, runs, usage
        make = {"runs": runs.RunsScreen, "new": new.NewScreen, "matches": matches.MatchesScreen,
                "compare": compare.CompareScreen, "export": export.ExportScreen, "loop": loop.LoopScreen,
                "ratings": ratings.RatingsScreen, "usage": usage.UsageScreen}[name]
        if name == "runs":
            while len(self.screen_stack) > 2:
                self.pop_screen()
            if isinstance(self.screen, runs.RunsScreen):
                return
        self.push_screen(make())

    def action_help(self) -> None:
        self.notify(HELP, title="help", timeout=15)

    def open_live(self, run_dir: Path, tournament_id: str | None = None) -> None:
        from arena.cli.dash.live import LiveScreen
        self.run_dir = Path(run_dir)
        self.push_screen(LiveScreen(self.run_dir, tournament_id))

    def open_match(self, run_dir: Path, match_id: str) -> None:
        from arena.cli.dash.matches import MatchScreen
        self.push_screen(MatchScreen(run_dir, match_id))


def run_app(root: str | Path = ".") -> int:
    DashApp(root).run()
    return 0
