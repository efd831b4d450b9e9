"""Compare: two variants (head-to-head, P(A beats B) with its interval, the sample-size line,
the leader's robustness: `arena compare`'s own words) or a lineage; and "play N more matches"
between the two, which grows the tournament by rounds of only those two (a match is named by
its cell, so only the new matches play), for a run launched from here or from the command line
(arena/cli/dash/more.py finds or rebuilds its config)."""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Static, TextArea

MORE_NAME = "arena-more.toml"


class CompareScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="where", classes="title", markup=False)
        with Horizontal(classes="row"):
            yield Input(placeholder="variant A", id="a")
            yield Input(placeholder="variant B", id="b")
            yield Input(placeholder="or a lineage", id="lineage")
            yield Input("*", placeholder="family", id="family")
            yield Button("compare", id="compare", variant="primary")
        with Horizontal(classes="row"):
            yield Input("10", placeholder="N", id="n")
            yield Button("play N more matches of A vs B", id="more")
        yield TextArea("", id="out", read_only=True, soft_wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        self.run_dir = self.app.current_run()
        self.query_one("#where", Static).update(f"Compare in {self.run_dir.name}  (enter: compare)")
        self.query_one("#a", Input).focus()

    def value(self, ident: str) -> str:
        return self.query_one(f"#{ident}", Input).value.strip()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "compare":
            self.compare()
        elif event.button.id == "more":
            self.more()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.compare()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def compare(self) -> None:
        from arena.cli.dash.procs import output_of
        pick = ["--lineage", self.value("lineage")] if self.value("lineage") else [self.value("a"), self.value("b")]
        self.app.call_from_thread(self.query_one(TextArea).load_text, "comparing…")
        _, text = output_of("compare", *pick, "--family", self.value("family") or "*", "--bootstrap", "300",
                            "--run-dir", str(self.run_dir.resolve()))
        self.app.call_from_thread(self.query_one(TextArea).load_text, text)

    def more(self) -> None:
        out = self.query_one(TextArea)
        a, b = self.value("a"), self.value("b")
        try:
            n = int(self.value("n"))
            if n < 1 or not a or not b or a == b:
                raise ValueError
        except ValueError:
            out.load_text("play more: give two different variants A and B and a positive N")
            return
        out.load_text(f"finding the config of {self.run_dir.name}…")
        self.play_more(a, b, n)

    @work(thread=True, exclusive=True, group="more", exit_on_error=False)
    def play_more(self, a: str, b: str, n: int) -> None:
        from arena.cli.dash.form import to_toml
        from arena.cli.dash.more import more_matches_config
        from arena.cli.dash.procs import launch
        from arena.errors import UserError
        try:
            data, adds, where = more_matches_config(self.run_dir, a, b, n)
        except UserError as exc:
            self.app.call_from_thread(self.query_one(TextArea).load_text, str(exc))
            return
        (self.run_dir / MORE_NAME).write_text(to_toml(data), encoding="utf-8")
        self.app.launched = launch(self.run_dir, "run", MORE_NAME, "--run-dir", ".", "--display", "plain")
        note = (f"playing {adds} more matches of {a} vs {b} ({MORE_NAME}, config from {where}"
                + (", whole rounds: both seat orders" if adds != n else "") + ")")
        self.app.call_from_thread(self.notify, note)
        self.app.call_from_thread(self.app.open_live, self.run_dir)
