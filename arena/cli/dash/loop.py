"""Loop: launch `arena loop` (play, export pairs, train, prove, play the new generation) with its
options, each checked by the command's own parser as it is typed, and watch it generation by
generation: a row per generation (checkpoint, pairs exported / trained, training steps and loss,
the held-out lift with its interval, REGRESSION, minutes), its findings, and the log below. A loop
launched from the command line is watched the same way (it is its run directory that is read)."""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
    TextArea,
)

from arena.cli.dash.procs import LOG_NAME

# (label, id, flag, default shown) per line of the form, two fields a line; empty: the command's default.
FIELDS = (
    (("config", "config", None, ""), ("run directory", "run_dir", None, "arena-loop")),
    (("generations", "iterations", "--iterations", "1"), ("base variant", "base", "--base", "")),
    (("eval families", "eval", "--eval", ""), ("eval tasks", "eval_tasks", "--eval-tasks", "")),
    (("anchor ratio", "anchor_ratio", "--anchor-ratio", ""), ("max pairs", "max_pairs", "--max-pairs", "")),
    (("max steps", "max_steps", "--max-steps", ""), ("mix file", "mix", "--mix", "")),
)
EXTRA_HINT = "any other flags of arena loop --help, e.g. --pairs all --lr 1e-4"
FLAGS = {ident: flag for line in FIELDS for _, ident, flag, _ in line if flag}
COLUMNS = (("gen", 3), ("checkpoint", 13), ("pairs", 7), ("steps loss", 10), ("lift [95%]", 20),
           ("flag", 10), ("min", 3))


class LoopScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Training loop: play, export pairs, train, prove, rate the new generation", classes="title")
        for line in FIELDS:
            with Horizontal(classes="row"):
                for label, ident, flag, value in line:
                    yield Label(label)
                    yield Input(value, placeholder="default", id=ident, compact=True)
        with Horizontal(classes="row"):
            yield Label("more flags")
            yield Input("", placeholder=EXTRA_HINT, id="extra", compact=True)
        with Horizontal(classes="row"):
            yield Label("control")
            yield Select([("none", "none"), ("shuffled twin", "shuffled")], value="none", allow_blank=False,
                         id="control", compact=True)
            yield Checkbox("forgetting guard", True, id="guard", compact=True)
            yield Button("launch arena loop", id="launch", variant="primary", compact=True)
        yield Static("", id="error", classes="error", markup=False)
        yield DataTable(id="gens", cursor_type="row", zebra_stripes=True)
        yield Static("", id="findings", classes="note", markup=False)
        yield TextArea("", id="out", read_only=True)
        yield Footer()

    def on_mount(self) -> None:
        self.errors: dict[str, str] = {}
        self.rows: list[dict[str, Any]] = []
        table = self.query_one("#gens", DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        self.reload()
        self.set_interval(self.app.refresh_s, self.reload)

    def value(self, ident: str) -> str:
        return self.query_one(f"#{ident}", Input).value.strip()

    def on_input_changed(self, event: Input.Changed) -> None:
        from arena.cli.dash.generations import extra_error, field_error
        ident = event.input.id or ""
        if ident == "extra":
            problem = extra_error(event.value)
        elif ident in FLAGS:
            problem = field_error(FLAGS[ident], event.value)
        else:
            return
        event.input.set_class(problem is not None, "-invalid")
        if problem:
            self.errors[ident] = problem
        else:
            self.errors.pop(ident, None)
        self.query_one("#error", Static).update(next(iter(self.errors.values()), ""))

    def argv(self) -> list[str]:
        config = self.value("config")
        argv = ["loop", *([str(Path(config) if Path(config).is_absolute() else (self.app.root / config).resolve())]
                          if config else []), "--run-dir", ".", "--display", "plain"]
        for ident, flag in FLAGS.items():
            if self.value(ident):
                v = self.value(ident)
                argv += [flag, str((self.app.root / v).resolve()) if ident == "mix" and not Path(v).is_absolute() else v]
        argv += shlex.split(self.value("extra"))
        argv += ["--control", str(self.query_one("#control", Select).value)]
        argv += [] if self.query_one("#guard", Checkbox).value else ["--no-guard"]
        return argv

    def run_dir(self) -> Path:
        return self.app.root / (self.value("run_dir") or "arena-loop")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "launch":
            self.launch()

    def launch(self) -> None:
        from arena.cli.dash.generations import parse
        from arena.cli.dash.procs import launch
        from arena.errors import UserError
        shown = self.query_one("#error", Static)
        if self.errors:
            shown.update(f"fix the field marked red first: {next(iter(self.errors.values()))}")
            return
        argv = self.argv()
        try:
            parse(argv[1:])  # the whole command line, as `arena loop` will read it
        except UserError as exc:
            shown.update(str(exc))
            return
        run_dir = self.run_dir()
        self.app.launched = launch(run_dir, *argv)
        shown.update("")
        self.notify(f"arena {' '.join(argv)} (in {run_dir.name})")

    @work(thread=True, exclusive=True, group="read", exit_on_error=False)
    def reload(self) -> None:
        from arena.cli.common import printable
        from arena.cli.dash.generations import find_loop, generations
        run_dir = find_loop(self.app.root, self.run_dir())
        rows = generations(run_dir)
        log = run_dir / LOG_NAME
        text = (printable(log.read_text(encoding="utf-8", errors="replace")[-20000:]) if log.is_file()
                else "" if not rows else f"(no {LOG_NAME} in {run_dir.name}: the loop was launched from the command line)")
        self.app.call_from_thread(self.show, run_dir, rows, text)

    def show(self, run_dir: Path, rows: list[dict[str, Any]], text: str) -> None:
        table = self.query_one("#gens", DataTable)
        if rows != self.rows or table.row_count != len(rows):
            self.rows = rows
            table.clear()
            for r in rows:
                table.add_row(str(r["generation"]), r["checkpoint"], r["pairs"], r["training"], r["lift"], r["flag"],
                              r["minutes"])
        last = rows[-1] if rows else None
        if last is None:
            note = f"no generations in {run_dir.name} yet"
        else:
            said = "; ".join(last["findings"]) or ("" if last["vs control"] == "-" else f"child - control {last['vs control']}")
            note = f"{run_dir.name} gen {last['generation']} ({last['state']})" + (f": {said}" if said else "")
        self.query_one("#findings", Static).update(note)
        out = self.query_one("#out", TextArea)
        if out.text != text:
            out.load_text(text)
            out.scroll_end(animate=False)
