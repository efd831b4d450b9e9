"""The README's quick start from the dashboard alone, driven with Textual's pilot over runs
launched from the command line: the ratings of every role with intervals (`arena ratings
--role`), usage (`arena usage`), soft targets and the DPO export's options (`arena export`),
"play N more matches" for a run whose config file is gone, a variant's sampling options in the
New tournament form, and the Loop screen's launch options checked by `arena loop`'s parser."""
from __future__ import annotations

import asyncio
import io
import json
from contextlib import redirect_stdout

import pytest

pytest.importorskip("textual")

from textual.widgets import DataTable, Input, Select, Static, TextArea  # noqa: E402

from arena.cli import main  # noqa: E402
from arena.cli.dash.app import DashApp  # noqa: E402
from arena.engine.store import Store  # noqa: E402
from tests.arena.cli.test_dash import text_of, type_into, until  # noqa: E402

# Scripted trivia with a panel and a meta-referee: every role is rated, referees with accuracy.
REFEREES = """
[tournament]
name = "refs"
families = ["trivia"]
players = ["p1", "p2"]
referees = ["r1", "r2"]
meta_referees = ["m1"]
authors = ["a1"]
seed = 5
[families.trivia]
questions = 1
[[variants]]
name = "p1"
model = "mock/constant"
text = "Penicillium"
[[variants]]
name = "p2"
model = "mock/constant"
text = "Aspergillus"
[[variants]]
name = "r1"
model = "mock/script"
script = ["B", "A"]
[[variants]]
name = "r2"
model = "mock/constant"
text = "A"
[[variants]]
name = "m1"
model = "mock/script"
script = ["A", "B"]
[[variants]]
name = "a1"
model = "mock/constant"
text = "Question: Which mould did Fleming notice in 1928?\\nAnswer: Penicillium"
"""
CHESS = """
[tournament]
name = "cli"
players = ["random", "first"]
[families.chess]
max_plies = 12
"""


def cli(*argv: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


@pytest.fixture
def judged(tmp_path):
    """A trivia run launched from the command line, its config file elsewhere."""
    cfg = tmp_path / "refs.toml"
    cfg.write_text(REFEREES)
    run_dir = tmp_path / "root" / "judged"
    cli("run", str(cfg), "--run-dir", str(run_dir), "--display", "none")
    return tmp_path / "root", run_dir


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def test_ratings_of_every_role_with_intervals_as_arena_ratings_gives_them(judged):
    root, run_dir = judged
    want = {role: json.loads(cli("ratings", "--role", role, "--format", "json", "--run-dir", str(run_dir)))
            for role in ("player", "author", "referee")}
    bt = json.loads(cli("ratings", "--role", "referee", "--method", "bt", "--bootstrap", "300", "--format", "json",
                        "--run-dir", str(run_dir)))

    async def visit():
        app = DashApp(root, refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("t")
            screen = app.screen
            table = screen.query_one(DataTable)
            for role in ("player", "author", "referee"):
                screen.query_one("#role", Select).value = role
                await until(pilot, lambda: [r[0] for r in cells(table)] == [w["variant"] for w in want[role]], 10,
                            f"the {role} ratings", lambda: cells(table))
                for row, w in zip(cells(table), want[role]):
                    assert row[1] == f"{w['mu']:.2f}±{w['sigma']:.2f}"
                    assert row[2] == f"[{w['lo']:.2f}, {w['hi']:.2f}]"  # the command's 95% interval
            labels = [str(c.label) for c in table.columns.values()]
            assert "accuracy" in labels and "position_bias" in labels  # the referee columns of the command
            assert cells(table)[0][labels.index("accuracy")] == f"{want['referee'][0]['accuracy']:.4f}"
            screen.query_one("#method", Select).value = "bt"
            await until(pilot, lambda: "Bradley-Terry" in text_of(screen.query_one("#note", Static)), 10, "bt")
            await until(pilot, lambda: cells(table) and cells(table)[0][2] == f"[{bt[0]['lo']:+.2f}, {bt[0]['hi']:+.2f}]",
                        10, "the bootstrap interval", lambda: cells(table))
            await type_into(pilot, "#family", "chess")
            await pilot.press("enter")
            note = screen.query_one("#note", Static)
            await until(pilot, lambda: "no ratings for family 'chess'" in text_of(note), 10, "the refusal",
                        lambda: text_of(note))
            assert table.row_count == 0
    asyncio.run(visit())


def test_usage_per_tournament_variant_and_role_with_the_total(judged):
    root, run_dir = judged
    want = json.loads(cli("usage", "--format", "json", "--run-dir", str(run_dir)))

    async def visit():
        app = DashApp(root, refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("u")
            table = app.screen.query_one("#usage", DataTable)
            await until(pilot, lambda: table.row_count == len(want["rows"]) + 1, 10, "the usage rows")
            labels = [str(c.label) for c in table.columns.values()]
            for row, w in zip(cells(table), want["rows"]):
                assert (row[0], row[1], row[2]) == (w["tournament"], w["variant"], w["role"])
                assert row[labels.index("calls")] == str(w["calls"])
            total = cells(table)[-1]
            assert total[0] == "total" and total[labels.index("calls")] == str(want["total"]["calls"])
            await type_into(pilot, "#tournament", "nope")
            await pilot.press("enter")
            note = app.screen.query_one("#note", Static)
            await until(pilot, lambda: "no model calls stored" in text_of(note), 10, "no such tournament")
    asyncio.run(visit())


def test_export_soft_targets_and_the_dpo_options_the_command_has(judged):
    root, run_dir = judged
    cli("export", "soft", "--out", str(root / "cli-soft.jsonl"), "--run-dir", str(run_dir))

    async def visit():
        app = DashApp(root, refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("e")
            screen = app.screen
            out = screen.query_one(TextArea)
            screen.query_one("#kind", Select).value = "soft"
            await pilot.pause()
            assert screen.query_one("#file", Input).value == "soft.jsonl"
            assert screen.query_one("#mix", Input).disabled and not screen.query_one("#roles", Input).disabled
            await pilot.click("#count")
            await until(pilot, lambda: "count (nothing written" in out.text and "wrote" in out.text, 30, "the count",
                        lambda: out.text)
            assert not (root / "soft.jsonl").exists()
            await pilot.click("#write")
            await until(pilot, lambda: "wrote" in out.text and "count" not in out.text, 30, "the export")
            assert (root / "soft.jsonl").read_text() == (root / "cli-soft.jsonl").read_text()  # the command's file

            screen.query_one("#kind", Select).value = "dpo"
            await pilot.pause()
            screen.query_one("#embeddings").value = False  # the sentence model takes ~20 s to load
            screen.query_one("#file", Input).value = "open.jsonl"
            screen.query_one("#unleashed", Input).value = "trivia=true"
            await pilot.click("#write")
            await until(pilot, lambda: "wrote" in out.text and "count" not in out.text, 30, "the dpo export",
                        lambda: out.text)
            rows = [json.loads(line) for line in (root / "open.jsonl").read_text().splitlines()]
            assert rows and all("UNLEASHED: " in json.dumps(r["prompt"]) for r in rows)  # the override applied
            screen.query_one("#unleashed", Input).value = ""
            screen.query_one("#mix_ratio", Input).value = "0.5"  # without a mix file: the command's refusal
            await pilot.click("#count")
            await until(pilot, lambda: "need --mix FILE" in out.text, 30, "the refusal", lambda: out.text)
    asyncio.run(visit())


@pytest.mark.parametrize("config", ["deleted", "in the run directory"])
def test_play_more_matches_of_a_run_launched_from_the_command_line(tmp_path, config):
    run_dir = tmp_path / "root" / "cli-run"
    run_dir.mkdir(parents=True)
    cfg = tmp_path / "elsewhere.toml" if config == "deleted" else run_dir / "arena.toml"
    cfg.write_text(CHESS)
    cli("run", str(cfg), "--run-dir", str(run_dir), "--display", "none")
    if config == "deleted":
        cfg.unlink()  # nothing but the store says what the tournament was

    def finished() -> int:
        store = Store(run_dir, create=False)
        try:
            return store.count("finished")
        finally:
            store.close()

    async def visit():
        app = DashApp(tmp_path / "root", refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            for played in (4, 6):  # twice: the second grows from the rounds the first played
                await pilot.press("c")
                await type_into(pilot, "#a", "random")
                await type_into(pilot, "#b", "first")
                await type_into(pilot, "#n", "2")
                await pilot.click("#more")
                await until(pilot, lambda: type(app.screen).__name__ == "LiveScreen", 20, "the live view",
                            lambda: app.screen.query_one(TextArea).text if app.screen.query(TextArea) else "")
                head = app.screen.query_one("#head", Static)
                await until(pilot, lambda: f"{played}/{played}" in text_of(head) and "[finished]" in text_of(head),
                            60, "the more matches", lambda: text_of(head))
                assert finished() == played
                await pilot.press("escape")
    asyncio.run(visit())
    store = Store(run_dir, create=False)
    try:
        assert len(store.tournaments()) == 1  # the same tournament grew; no new one beside it
    finally:
        store.close()


def test_a_variant_added_by_model_name_takes_its_sampling_options_checked_by_the_schema(tmp_path):
    async def fill():
        app = DashApp(tmp_path, refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("n")
            screen = app.screen
            await type_into(pilot, "#v-temperature", "3")
            await pilot.pause()
            assert "temperature must be between 0 and 2, got 3" in text_of(screen.query_one("#e-v-temperature", Static))
            assert screen.query_one("#v-temperature", Input).has_class("-invalid")
            await type_into(pilot, "#v-max_tokens", "0")
            await pilot.pause()
            assert "max_tokens must be >= 1, got 0" in text_of(screen.query_one("#e-v-max_tokens", Static))
            for ident, value in (("v-name", "terse"), ("v-model", "mock/first"), ("v-temperature", "0.4"),
                                 ("v-top_p", "0.9"), ("v-max_tokens", "32"), ("v-seed", "3"),
                                 ("v-system", "Be terse.")):
                await type_into(pilot, f"#{ident}", value)
            await pilot.pause()
            assert text_of(screen.query_one("#e-v-temperature", Static)) == ""
            screen.add_variant()
            await pilot.pause()
            assert "added terse" in text_of(screen.query_one("#e-v", Static))
            await type_into(pilot, "#run_dir", "sampled")
            await type_into(pilot, "#f-chess-max_plies", "6")
            for name in ("terse", "random"):
                screen.query_one("#players").select(name)
            await pilot.press("ctrl+l")
            await until(pilot, lambda: type(app.screen).__name__ == "LiveScreen", 10, "the live view")
            head = app.screen.query_one("#head", Static)
            await until(pilot, lambda: "[finished]" in text_of(head), 60, "the run", lambda: text_of(head))
    asyncio.run(fill())
    import tomllib
    written = tomllib.loads((tmp_path / "sampled" / "arena.toml").read_text())
    assert written["variants"] == [{"name": "terse", "model": "mock/first", "temperature": 0.4, "top_p": 0.9,
                                    "max_tokens": 32, "seed": 3, "system": "Be terse."}]
    store = Store(tmp_path / "sampled", create=False)
    try:
        v = store.tournaments()[0]["config"]["variants"]["terse"]
    finally:
        store.close()
    assert v["params"] == {"temperature": 0.4, "top_p": 0.9, "max_tokens": 32, "seed": 3}
    assert v["system"] == "Be terse."


def test_the_loop_form_checks_each_option_with_the_commands_parser(tmp_path):
    async def fill():
        app = DashApp(tmp_path, refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("l")
            screen = app.screen
            error = screen.query_one("#error", Static)
            await type_into(pilot, "#iterations", "0")
            await pilot.pause()
            assert text_of(error) == "--iterations must be >= 1"
            assert screen.query_one("#iterations", Input).has_class("-invalid")
            await pilot.click("#launch")
            await pilot.pause()
            assert "fix the field marked red first" in text_of(error)
            assert not (tmp_path / "arena-loop").exists()  # nothing launched
            await type_into(pilot, "#iterations", "2")
            await type_into(pilot, "#extra", "--pairs sideways")
            await pilot.pause()
            assert "invalid choice: 'sideways'" in text_of(error)
            await type_into(pilot, "#extra", "--pairs all --max-length 64")
            await type_into(pilot, "#config", "missing.toml")
            screen.query_one("#control", Select).value = "shuffled"
            await pilot.pause()
            assert text_of(error) == ""
            assert screen.argv()[-6:] == ["--pairs", "all", "--max-length", "64", "--control", "shuffled"]
            await pilot.click("#launch")
            out = screen.query_one(TextArea)
            # A real `arena loop` process with those options: its one-line refusal reaches the screen.
            await until(pilot, lambda: "config file not found" in out.text, 30, "the loop's output", lambda: out.text)
            assert "no generations in arena-loop yet" in text_of(screen.query_one("#findings", Static))
    asyncio.run(fill())


def test_a_config_the_store_cannot_rebuild_is_refused_not_replaced_by_another_tournament():
    from arena.cli.dash.more import continues, rebuilt
    from arena.config import parse_config
    cfg = parse_config({"tournament": {"name": "lab", "players": ["mine", "random"]},
                        "variants": [{"name": "mine", "model": "openai-api/lab/m1", "base_url": "http://127.0.0.1:9/v1"}]})
    stored = {"name": "lab", "config": {**cfg.describe(), "identity": cfg.identity()}}
    # The base URL is part of what the variant is, and it is not stored (it may carry credentials).
    assert continues(rebuilt(stored["config"]), stored) == "variant 'mine' changed"


def test_usage_shows_each_models_speed_of_its_streamed_calls_as_arena_usage_does(tmp_path):
    from arena.config import parse_config
    from arena.engine.runner import run
    from tests.support.fault_server import FaultServer
    data = {"tournament": {"name": "fast", "families": ["chess"], "players": ["served", "random"], "seed": 3},
            "families": {"chess": {"max_plies": 2}}}
    run_dir = tmp_path / "served"
    with FaultServer(text="e4 now", latency_s=0.05, token_s=0.01) as srv:
        data["variants"] = [{"name": "served", "model": "openai-api/fault/m1", "base_url": srv.openai_url,
                             "max_tokens": 8}]
        run(parse_config(data), run_dir)
    want = json.loads(cli("usage", "--format", "json", "--run-dir", str(run_dir)))["speed"]
    assert want  # streamed calls were stored

    async def visit():
        app = DashApp(tmp_path, refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("u")
            table = app.screen.query_one("#speeds", DataTable)
            await until(pilot, lambda: table.row_count == len(want), 10, "the speeds")
            assert table.display
            labels = [str(c.label) for c in table.columns.values()]
            row = cells(table)[0]
            assert row[0] == "openai-api/fault/m1" and row[labels.index("streamed")] == str(want[0]["streamed"])
            assert row[labels.index("tokens_per_s_median")] == f"{want[0]['tokens_per_s_median']:.2f}"
    asyncio.run(visit())
