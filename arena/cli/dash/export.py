"""Export: DPO pairs with every option `arena export dpo` has (roles, families, tournament, pair
selection, margin, UNLEASHED overrides, diversity, format, mix file, ratio, SPIN-style rejected,
seed, config), soft targets (`arena export soft`), matches as JSONL, or the HTML report. "count"
writes to a scratch file and shows what the command says (the counts); "write" writes the file."""
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
    Label,
    Select,
    Static,
    TextArea,
)

KINDS = [("DPO pairs", "dpo"), ("soft targets", "soft"), ("matches JSONL", "matches"), ("HTML report", "report")]
PAIRS = [("best-worst", "best-worst"), ("adjacent", "adjacent"), ("all", "all")]
FORMATS = [("format from name", ""), ("jsonl", "jsonl"), ("parquet", "parquet")]
OUT = {"dpo": "pairs.jsonl", "soft": "soft.jsonl", "matches": "matches.jsonl", "report": "report.html"}
# Which options each kind takes (the others are greyed out).
USES = {"dpo": {"pairs", "format", "roles", "families", "tournament", "margin", "unleashed", "mix", "mix_ratio",
                "mix_rejected", "seed", "config", "diversity", "embeddings"},
        "soft": {"roles", "families", "tournament"}, "matches": set(), "report": set()}
# (label, id, value, placeholder) per line of the form; one line each, so the output fits in 80x24.
LINES = (
    (("roles", "roles", "", "a,b (empty: all)"), ("families", "families", "", "a,b (empty: all)")),
    (("tournament", "tournament", "", "id (empty: all)"), ("min margin", "margin", "0", "")),
    (("unleashed", "unleashed", "", "FAMILY=true,..."), ("config", "config", "", "TOML (its unleashed)")),
    (("mix file", "mix", "", "JSONL"), ("mix ratio", "mix_ratio", "1.0", "")),
    (("mix rejected", "mix_rejected", "", "VARIANT (SPIN)"), ("mix seed", "seed", "0", "")),
)


class ExportScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="where", classes="title", markup=False)
        with Horizontal(classes="row"):
            yield Select(KINDS, value="dpo", allow_blank=False, id="kind", compact=True)
            yield Select(PAIRS, value="best-worst", allow_blank=False, id="pairs", compact=True)
            yield Select(FORMATS, value="", allow_blank=False, id="format", compact=True)
        with Horizontal(classes="row"):
            yield Label("out file")
            yield Input(OUT["dpo"], id="file", compact=True)
        for line in LINES:
            with Horizontal(classes="row"):
                for label, ident, value, hint in line:
                    yield Label(label)
                    yield Input(value, placeholder=hint, id=ident, compact=True)
        with Horizontal(classes="row"):
            yield Checkbox("diversity penalty", True, id="diversity", compact=True)
            yield Checkbox("semantic diversity (slower)", True, id="embeddings", compact=True)
        with Horizontal(id="buttons"):
            yield Button("count", id="count", variant="primary", compact=True)
            yield Button("write", id="write", compact=True)
        yield TextArea("", id="out", read_only=True, soft_wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        self.run_dir = self.app.current_run()
        self.query_one("#where", Static).update(f"Export from {self.run_dir.name}  (count first, then write)")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "kind":
            kind = str(event.value)
            self.query_one("#file", Input).value = OUT[kind]
            for ident in USES["dpo"]:
                self.query_one(f"#{ident}").disabled = ident not in USES[kind]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("count", "write"):
            self.export(event.button.id == "write")

    def path(self, text: str) -> str:
        """A file the user names is relative to the dashboard's folder, as the output is."""
        return str(Path(text) if Path(text).is_absolute() else (self.app.root / text).resolve())

    def argv(self, out: str) -> list[str]:
        kind = str(self.query_one("#kind", Select).value)
        v = {i: self.query_one(f"#{i}", Input).value.strip() for line in LINES for _, i, _, _ in line}
        run = ["--run-dir", str(self.run_dir.resolve())]
        if kind == "report":
            return ["report", *run, "--out", out]
        if kind == "matches":
            return ["export", "matches", *run, "--out", out]
        argv = ["export", kind, *run, "--out", out]
        argv += ["--role", v["roles"]] if v["roles"] else []
        argv += ["--family", v["families"]] if v["families"] else []
        argv += ["--tournament", v["tournament"]] if v["tournament"] else []
        if kind == "soft":
            return argv
        argv += ["--pairs", str(self.query_one("#pairs", Select).value), "--min-margin", v["margin"] or "0"]
        fmt = str(self.query_one("#format", Select).value)
        argv += ["--format", fmt] if fmt else []
        for item in filter(None, (x.strip() for x in v["unleashed"].split(","))):
            argv += ["--unleashed", item]
        argv += ["--config", self.path(v["config"])] if v["config"] else []
        argv += ["--mix", self.path(v["mix"])] if v["mix"] else []
        # Ratio, seed and rejected only when set: without a mix file the command refuses them in a line.
        argv += ["--mix-ratio", v["mix_ratio"]] if v["mix_ratio"] not in ("", "1", "1.0") else []
        argv += ["--seed", v["seed"]] if v["seed"] not in ("", "0") else []
        argv += ["--mix-rejected", v["mix_rejected"]] if v["mix_rejected"] else []
        argv += [] if self.query_one("#diversity", Checkbox).value else ["--no-diversity"]
        argv += [] if self.query_one("#embeddings", Checkbox).value else ["--no-embeddings"]
        return argv

    @work(thread=True, exclusive=True, exit_on_error=False)
    def export(self, write: bool) -> None:
        from arena.cli.dash.procs import output_of
        shown = self.query_one(TextArea)
        out = self.query_one("#file", Input).value.strip() or "export.out"
        self.app.call_from_thread(shown.load_text, "writing…" if write else "counting…")
        if write:
            code, text = output_of(*self.argv(self.path(out)))
        else:
            with tempfile.TemporaryDirectory() as scratch:
                scratch_out = str(Path(scratch) / Path(out).name)
                code, text = output_of(*self.argv(scratch_out))
            text = "count (nothing written yet; press write):\n" + text.replace(scratch_out, out)
        self.app.call_from_thread(shown.load_text, text + ("" if code == 0 else f"\n(exit {code})"))
