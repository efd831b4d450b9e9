"""New tournament: a form over the real config schema ([tournament] keys, each family's options
with its defaults, players and referees from the built-in and declared variants). A field's
problem is shown under it in the schema's own words; Launch writes the TOML into the run
directory (so the command line reproduces the run) and starts `arena run` on it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    Collapsible,
    Footer,
    Header,
    Input,
    Label,
    SelectionList,
    Static,
)

from arena.cli.dash import form
from arena.config import TournamentSection, VariantTable

PREFILL = {"name": "dash"}
ROLES = {"referees": "families judged by models need them", "authors": "families with written tasks need them",
         "meta_referees": "rank the referees' rankings"}


def title(family: str, playing: bool) -> str:
    return f"{family} (played)" if playing else family


def free_run_dir(root: Path) -> str:
    name, n = "arena-run", 1
    while (root / name).exists():
        n += 1
        name = f"arena-run-{n}"
    return name


class NewScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back"), Binding("ctrl+l", "launch", "launch")]

    def __init__(self) -> None:
        super().__init__()
        from arena.engine.family import family_names
        self.families = family_names()
        self.declared: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("New tournament  (ctrl+l: launch)", classes="title")
        with VerticalScroll(id="form"):
            yield from self._row("run directory", "run_dir", free_run_dir(self.app.root))
            for key in form.TOURNAMENT_FIELDS:
                yield from self._row(key, f"t-{key}", PREFILL.get(key, form.shown(form.default(TournamentSection, key))))
            yield Label("families (tick to play; options show their defaults)")
            for fam in self.families:
                with Collapsible(title=title(fam, fam == "chess"), collapsed=True, id=f"c-{fam}"):
                    yield Checkbox(f"play {fam}", fam == "chess", id=f"play-{fam}")
                    for key, value, must in form.family_fields(fam):
                        yield from self._row(key, f"f-{fam}-{key}", value, must)
            yield Label("players (space to tick)")
            yield SelectionList[str](*[(n, n) for n in form.variant_names([])], id="players")
            for role, why in ROLES.items():
                yield Label(f"{role} ({why})")
                yield SelectionList[str](*[(n, n) for n in form.variant_names([])], id=role)
            yield Label("add a variant: openai/MODEL, openai-api/SERVICE/MODEL (+ base URL), local/PATH.gguf")
            with Horizontal(classes="row"):
                yield Input(placeholder="name", id="v-name")
                yield Input(placeholder="model", id="v-model")
                yield Input(placeholder="base URL (openai-api)", id="v-url")
                yield Button("add", id="add")
            for key in form.VARIANT_FIELDS:  # its sampling; empty: the backend's default
                extra = VariantTable.model_fields[key].json_schema_extra or {}
                yield from self._row(f"  {key}", f"v-{key}", "", str(extra.get("kind") or extra.get("must") or ""))
            yield Static("", id="e-v", classes="error", markup=False)
            yield Static("", id="e-form", classes="error", markup=False)
            yield Button("Launch", id="launch", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#run_dir", Input).focus()

    def _row(self, label: str, ident: str, value: str, must: str = "") -> Any:
        with Horizontal(classes="row"):
            yield Label(label)
            yield Input(value, placeholder=must, id=ident)
        yield Static("", id=f"e-{ident}", classes="error", markup=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        ident = event.input.id or ""
        problem = None
        if ident.startswith("t-"):
            key = ident[2:]
            problem = form.field_error(TournamentSection, key, event.value, "[tournament]")
        elif ident.startswith("f-"):
            fam, key = self._family_key(ident)
            schema = form.options_schema(fam)
            problem = form.field_error(schema, key, event.value, f"[families.{fam}]") if schema else None
        elif ident.startswith("v-") and ident[2:] in form.VARIANT_FIELDS:
            problem = form.field_error(VariantTable, ident[2:], event.value, "variant", form.VARIANT_BASE)
        else:
            return
        event.input.set_class(problem is not None, "-invalid")
        self.say(f"#e-{ident}", problem)

    def say(self, ident: str, text: str | None) -> None:
        shown = self.query_one(ident, Static)
        shown.update(text or "")
        shown.set_class(bool(text), "-shown")

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        ident = event.checkbox.id or ""
        if ident.startswith("play-"):
            self.query_one(f"#c-{ident[5:]}", Collapsible).title = title(ident[5:], event.value)

    def _family_key(self, ident: str) -> tuple[str, str]:
        for fam in sorted(self.families, key=len, reverse=True):
            if ident.startswith(f"f-{fam}-"):
                return fam, ident[len(f"f-{fam}-"):]
        raise KeyError(ident)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "add":
            self.add_variant()
        elif event.button.id == "launch":
            self.action_launch()

    def add_variant(self) -> None:
        name, model, url = (self.query_one(f"#{i}", Input).value for i in ("v-name", "v-model", "v-url"))
        sampling = {k: self.query_one(f"#v-{k}", Input).value for k in form.VARIANT_FIELDS}
        table = form.variant_table(name, model, url, sampling)
        problem = form.check({"tournament": {"players": ["random", "first"]}, "variants": [table]})
        if not problem and table["name"] in form.variant_names(self.declared):
            problem = f"variant {table['name']!r} exists already"
        self.say("#e-v", problem or f"added {table['name']} ({table['model']})")
        if problem:
            return
        self.declared.append(table)
        for ident in ("#players", *(f"#{r}" for r in ROLES)):
            self.query_one(ident, SelectionList).add_option((table["name"], table["name"]))

    def config(self) -> dict[str, Any]:
        values = {k: self.query_one(f"#t-{k}", Input).value for k in form.TOURNAMENT_FIELDS}
        families = {}
        for fam in self.families:
            if self.query_one(f"#play-{fam}", Checkbox).value:
                families[fam] = {k: self.query_one(f"#f-{fam}-{k}", Input).value for k, _, _ in form.family_fields(fam)}
        chosen = {r: list(self.query_one(f"#{r}", SelectionList).selected) for r in ("players", *ROLES)}
        used = {n for names in chosen.values() for n in names}
        return form.build(values, families, chosen, [v for v in self.declared if v["name"] in used])

    def action_launch(self) -> None:
        from arena.cli.dash.data import CONFIG_NAME
        from arena.cli.dash.procs import launch
        invalid = [w for w in self.query(Input) if w.has_class("-invalid")]
        if invalid:
            self.say("#e-form", f"fix the field marked red first ({invalid[0].id})")
            return
        data = self.config()
        if not data["tournament"]["families"]:
            self.say("#e-form", "tick at least one family")
            return
        problem = form.check(data)
        if problem:
            self.say("#e-form", problem)
            return
        run_dir = self.app.root / (self.query_one("#run_dir", Input).value.strip() or "arena-run")
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / CONFIG_NAME).write_text(form.to_toml(data), encoding="utf-8")
        self.app.launched = launch(run_dir, "run", CONFIG_NAME, "--run-dir", ".", "--display", "plain")
        self.app.pop_screen()
        self.app.open_live(run_dir)
