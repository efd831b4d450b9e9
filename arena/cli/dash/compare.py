"""Compare: two variants (head-to-head, P(A beats B) with its interval, the sample-size line,
the leader's robustness: `arena compare`'s own words) or a lineage; and "play N more matches"
between the two, which grows the tournament by rounds of only those two (a match is named by
its cell, so only the new matches play)."""
from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Static, TextArea

from arena.cli.dash.data import CONFIG_NAME

MORE_NAME = "arena-more.toml"


def more_matches_config(run_dir: Path, a: str, b: str, n: int) -> tuple[dict[str, Any], int]:
    """The run's config grown by enough rounds of only a and b to play at least n more matches
    between them: (config, matches it adds). A round of two players is both seat orders."""
    from arena.cli.dash.progress import family_totals
    from arena.errors import UserError
    path = run_dir / CONFIG_NAME
    if not path.is_file():
        raise UserError(f"{run_dir.name} has no {CONFIG_NAME} (it was not launched from the dashboard)")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    t = dict(data.get("tournament", {}))
    per_round = sum(family_totals({"families": t.get("families") or ["chess"], "players": [a, b], "rounds": 1,
                                   "family_options": data.get("families", {})}).values())
    if per_round == 0:
        raise UserError("none of the run's families is played by two players")
    rounds = math.ceil(n / per_round)
    t["players"] = [a, b]
    t["rounds"] = int(t.get("rounds", 1)) + rounds
    return {**data, "tournament": t}, rounds * per_round


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
        from arena.cli.dash.form import to_toml
        from arena.cli.dash.procs import launch
        from arena.errors import UserError
        out = self.query_one(TextArea)
        a, b = self.value("a"), self.value("b")
        try:
            n = int(self.value("n"))
            if n < 1 or not a or not b or a == b:
                raise ValueError
        except ValueError:
            out.load_text("play more: give two different variants A and B and a positive N")
            return
        try:
            data, adds = more_matches_config(self.run_dir, a, b, n)
        except UserError as exc:
            out.load_text(str(exc))
            return
        (self.run_dir / MORE_NAME).write_text(to_toml(data), encoding="utf-8")
        self.app.launched = launch(self.run_dir, "run", MORE_NAME, "--run-dir", ".", "--display", "plain")
        self.notify(f"playing {adds} more matches of {a} vs {b} ({MORE_NAME})")
        self.app.open_live(self.run_dir)
