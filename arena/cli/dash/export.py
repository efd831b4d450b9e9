"""Export: matches as JSONL, DPO pairs with the export's options (roles, families, pair
selection, margin, mix file), or the HTML report. "count" writes to a scratch file and shows
what `arena export` says (the counts); "write" writes the file."""
from __future__ import annotations

import tempfile
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Header,
    Input,
    Select,
    Static,
    TextArea,
)

KINDS = [("DPO pairs", "dpo"), ("matches JSONL", "matches"), ("HTML report", "report")]
PAIRS = [("best-worst", "best-worst"), ("adjacent", "adjacent"), ("all", "all")]
OUT = {"dpo": "pairs.jsonl", "matches": "matches.jsonl", "report": "report.html"}


class ExportScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="where", classes="title", markup=False)
        with Horizontal(classes="row"):
            yield Select(KINDS, value="dpo", allow_blank=False, id="kind")
            yield Select(PAIRS, value="best-worst", allow_blank=False, id="pairs")
            yield Input("0", placeholder="min margin", id="margin")
        with Horizontal(classes="row"):
            yield Input(OUT["dpo"], placeholder="out file", id="file")
            yield Input("", placeholder="mix file (JSONL)", id="mix")
        with Horizontal(classes="row"):
            yield Input("", placeholder="roles (a,b; empty: all)", id="roles")
            yield Input("", placeholder="families (a,b; empty: all)", id="families")
        with Horizontal(classes="row"):
            yield Button("count", id="count", variant="primary")
            yield Button("write", id="write")
            yield Checkbox("semantic diversity (slower)", True, id="embeddings")
        yield TextArea("", id="out", read_only=True, soft_wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        self.run_dir = self.app.current_run()
        self.query_one("#where", Static).update(f"Export from {self.run_dir.name}")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "kind":
            self.query_one("#file", Input).value = OUT[str(event.value)]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("count", "write"):
            self.export(event.button.id == "write")

    def argv(self, out: str) -> list[str]:
        kind = str(self.query_one("#kind", Select).value)
        value = {i: self.query_one(f"#{i}", Input).value.strip() for i in ("roles", "families", "margin", "mix")}
        run = ["--run-dir", str(self.run_dir.resolve())]
        if kind == "report":
            return ["report", *run, "--out", out]
        if kind == "matches":
            return ["export", "matches", *run, "--out", out]
        argv = ["export", "dpo", *run, "--out", out, "--pairs", str(self.query_one("#pairs", Select).value),
                "--min-margin", value["margin"] or "0"]
        argv += ["--role", value["roles"]] if value["roles"] else []
        argv += ["--family", value["families"]] if value["families"] else []
        argv += ["--mix", value["mix"]] if value["mix"] else []
        argv += [] if self.query_one("#embeddings", Checkbox).value else ["--no-embeddings"]
        return argv

    @work(thread=True, exclusive=True, exit_on_error=False)
    def export(self, write: bool) -> None:
        from arena.cli.dash.procs import output_of
        shown = self.query_one(TextArea)
        out = self.query_one("#file", Input).value.strip() or "export.out"
        self.app.call_from_thread(shown.load_text, "writing…" if write else "counting…")
        if write:
            target = Path(out) if Path(out).is_absolute() else self.app.root / out
            code, text = output_of(*self.argv(str(target.resolve())))
        else:
            with tempfile.TemporaryDirectory() as scratch:
                code, text = output_of(*self.argv(str(Path(scratch) / Path(out).name)))
            text = "count (nothing written yet; press write):\n" + text.replace(str(Path(scratch) / Path(out).name), out)
        self.app.call_from_thread(shown.load_text, text + ("" if code == 0 else f"\n(exit {code})"))
