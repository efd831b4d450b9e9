"""The dashboard driven as a user would, with Textual's pilot: fill the New tournament form,
launch (a real `arena run` process), watch it finish in the live view, open a match, compare the
two variants, export the DPO pairs and read the file."""
from __future__ import annotations

import asyncio
import json
import time

import pytest

pytest.importorskip("textual")

from textual.widgets import DataTable, Input, SelectionList, Static, TextArea  # noqa: E402

from arena.cli.dash.app import DashApp  # noqa: E402


async def until(pilot, check, timeout=60.0, what="condition", show=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {what}: {show()}")


def text_of(widget) -> str:
    return str(widget.render()) if not isinstance(widget, TextArea) else widget.text


async def type_into(pilot, selector: str, text: str) -> None:
    widget = pilot.app.screen.query_one(selector, Input)
    widget.value = ""
    widget.focus()
    await pilot.press(*text)


def test_launch_watch_open_compare_export(tmp_path):
    async def journey():
        app = DashApp(tmp_path, refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("n")
            screen = app.screen
            assert type(screen).__name__ == "NewScreen"
            await type_into(pilot, "#t-rounds", "0")  # the schema's own one-line error, under the field
            await pilot.pause()
            assert "rounds must be a positive integer, got 0" in text_of(screen.query_one("#e-t-rounds", Static))
            await type_into(pilot, "#t-rounds", "1")
            await pilot.pause()
            assert text_of(screen.query_one("#e-t-rounds", Static)) == ""
            await type_into(pilot, "#f-chess-max_plies", "16")
            await type_into(pilot, "#run_dir", "mine")
            screen.query_one("#play-predict-output").value = True  # chess games give no pairs; predictions do
            for role, names in (("players", ["random", "first"]), ("authors", ["first"]), ("referees", ["first"])):
                for name in names:
                    screen.query_one(f"#{role}", SelectionList).select(name)
            await pilot.press("ctrl+l")
            await until(pilot, lambda: type(app.screen).__name__ == "LiveScreen", 10, "the live view")
            live = app.screen
            await until(pilot, lambda: "[finished]" in text_of(live.query_one("#head", Static)), 60, "the run to finish")
            toml = (tmp_path / "mine" / "arena.toml").read_text()
            assert 'players = ["random", "first"]' in toml and "max_plies = 16" in toml
            latest = live.query_one("#latest", DataTable)
            await until(pilot, lambda: latest.row_count >= 4, 5, "the latest matches")
            match_id = live.latest[0]["id"]
            assert str(latest.get_row_at(0)[0]) == match_id[:10]  # ids shown, so `arena show ID` works
            latest.focus()
            await pilot.press("enter")
            await until(pilot, lambda: type(app.screen).__name__ == "MatchScreen", 5, "the match")
            await until(pilot, lambda: "calls (" in app.screen.query_one(TextArea).text, 10, "the match text")
            assert match_id in app.screen.query_one(TextArea).text
            await pilot.press("escape", "escape", "c")
            await type_into(pilot, "#a", "random")
            await type_into(pilot, "#b", "first")
            await pilot.press("enter")
            out = app.screen.query_one(TextArea)
            await until(pilot, lambda: "P(random beats first)" in out.text, 30, "the comparison")
            assert "matches" in out.text
            await pilot.press("escape", "e")
            app.screen.query_one("#embeddings").value = False  # the sentence model takes ~20 s to load
            await pilot.click("#count")
            out = app.screen.query_one(TextArea)
            await until(pilot, lambda: "pairs from" in out.text, 60, "the counts", lambda: out.text)
            assert not (tmp_path / "pairs.jsonl").exists()  # counted, not written
            await pilot.click("#write")
            await until(pilot, lambda: "wrote" in out.text and "count" not in out.text, 60, "the export")
            rows = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
            assert rows and all({"prompt", "chosen", "rejected"} <= set(r) for r in rows)
    started = time.monotonic()
    asyncio.run(journey())
    assert time.monotonic() - started < 60


MOCK = """
[tournament]
name = "fixed"
players = ["random", "first"]
[families.chess]
max_plies = 12
"""


@pytest.fixture
def played(tmp_path):
    from arena.cli import main
    run_dir = tmp_path / "mine"
    run_dir.mkdir()
    (run_dir / "arena.toml").write_text(MOCK)
    assert main(["run", str(run_dir / "arena.toml"), "--run-dir", str(run_dir), "--display", "none"]) == 0
    return tmp_path


def test_matches_filter_and_failures_and_the_loop_screen(played):
    async def visit():
        app = DashApp(played, refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("m")
            table = app.screen.query_one(DataTable)
            await until(pilot, lambda: table.row_count == 2, 10, "both matches")
            await type_into(pilot, "#outcome", "no such outcome")
            await until(pilot, lambda: table.row_count == 0, 10, "the filter")
            await type_into(pilot, "#outcome", "draw")
            await until(pilot, lambda: table.row_count == 2, 10, "the filter lifted")
            app.screen.query_one("#failed").value = True
            await until(pilot, lambda: table.row_count == 0, 10, "failed matches only")
            await pilot.press("escape", "enter")  # the run's live view
            await until(pilot, lambda: type(app.screen).__name__ == "LiveScreen", 5, "the live view")
            await pilot.press("f")
            await until(pilot, lambda: type(app.screen).__name__ == "FailuresScreen", 5, "format failures")
            await pilot.press("escape", "escape", "l")
            await type_into(pilot, "#config", "missing.toml")
            await type_into(pilot, "#run_dir", "loop")
            await pilot.click("#launch")
            out = app.screen.query_one(TextArea)
            # A real `arena loop` process: its one-line refusal reaches the screen from its log.
            await until(pilot, lambda: "config file not found" in out.text, 30, "the loop's output", lambda: out.text)
    asyncio.run(visit())


def test_new_form_adds_a_variant_by_model_name_and_refuses_a_bad_one(played):
    async def fill():
        app = DashApp(played, refresh_s=5)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("n")
            screen = app.screen
            await type_into(pilot, "#v-name", "mine")
            await type_into(pilot, "#v-model", "nomodel")
            screen.add_variant()
            assert "model must be like" in text_of(screen.query_one("#e-v", Static))
            await type_into(pilot, "#v-model", "openai-api/lab/m1")
            await type_into(pilot, "#v-url", "http://127.0.0.1:9/v1")
            screen.add_variant()
            await pilot.pause()
            players = screen.query_one("#players", SelectionList)
            assert "mine" in [players.get_option_at_index(i).value for i in range(players.option_count)]
            players.select("mine")
            players.select("random")
            data = screen.config()
            assert data["variants"] == [{"name": "mine", "model": "openai-api/lab/m1", "base_url": "http://127.0.0.1:9/v1"}]
            screen.query_one("#players", SelectionList).deselect("random")
            screen.action_launch()  # one player: refused before anything is written
            assert "at least 2 players" in text_of(screen.query_one("#e-form", Static))
            assert not (played / "arena-run").exists()
    asyncio.run(fill())


def test_stopping_a_run_from_the_live_view_is_a_clean_stop(tmp_path):
    from arena.cli.dash.procs import launch
    run_dir = tmp_path / "long"
    run_dir.mkdir()
    (run_dir / "arena.toml").write_text(MOCK.replace('name = "fixed"', 'name = "long"\nrounds = 2000'))
    proc = launch(run_dir, "run", "arena.toml", "--run-dir", ".", "--display", "plain")

    async def stop():
        app = DashApp(tmp_path, refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.screen.query_one(DataTable)
            await until(pilot, lambda: any(r["status"] == "running" for r in app.screen.rows), 30, "the running run")
            assert table.row_count == 1
            await pilot.press("enter")
            head = app.screen.query_one("#head", Static)
            await until(pilot, lambda: "elapsed" in text_of(head) and "ETA" in text_of(head), 10, "the live view")
            await pilot.press("s")
            await until(pilot, lambda: "[stopped]" in text_of(head), 30, "the stop", lambda: text_of(head))
    try:
        asyncio.run(stop())
        assert proc.wait(timeout=30) == 130  # as Ctrl-C: interrupted, finished matches kept
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "interrupted; finished matches are kept" in (run_dir / "arena-dash.log").read_text()
