"""Loop: launch `arena loop` (play, export pairs, train, play the new generation) with its
options, and watch it generation by generation in its log."""
from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static, TextArea

from arena.cli.dash.procs import LOG_NAME


class LoopScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back")]
    FIELDS = (("config (TOML, empty: default)", "config", ""), ("generations", "iterations", "1"),
              ("run directory", "run_dir", "arena-loop"), ("base variant", "base", ""),
              ("held-out families", "eval", ""))

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Training loop: play, export pairs, train, rate the new generation", classes="title")
        for label, ident, value in self.FIELDS:
            with Horizontal(classes="row"):
                yield Label(label)
                yield Input(value, id=ident)
        yield Button("launch arena loop", id="launch", variant="primary")
        yield TextArea("", id="out", read_only=True)
        yield Footer()

    def on_mount(self) -> None:
        self.log_path: Path | None = None
        self.set_interval(self.app.refresh_s, self.tail)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        from arena.cli.dash.procs import launch
        v = {ident: self.query_one(f"#{ident}", Input).value.strip() for _, ident, _ in self.FIELDS}
        run_dir = self.app.root / (v["run_dir"] or "arena-loop")
        argv = ["loop", *([str(Path(v["config"]).resolve())] if v["config"] else []), "--run-dir", ".",
                "--iterations", v["iterations"] or "1", "--display", "plain"]
        argv += ["--base", v["base"]] if v["base"] else []
        argv += ["--eval", v["eval"]] if v["eval"] else []
        self.app.launched = launch(run_dir, *argv)
        self.log_path = run_dir / LOG_NAME
        self.notify(f"arena {' '.join(argv)} (in {run_dir.name})")

    @work(thread=True, exclusive=True, exit_on_error=False)
    def tail(self) -> None:
        if self.log_path is None or not self.log_path.exists():
            return
        text = self.log_path.read_text(encoding="utf-8", errors="replace")[-20000:]
        from arena.cli.common import printable
        self.app.call_from_thread(self.query_one(TextArea).load_text, printable(text))
