"""The main screens at 80x24 (pytest-textual-snapshot), over a fixed store: a mock chess
round-robin played in-process, so ids, ratings and counts are the same on every machine, and no
clock is shown (a run that is not running shows no elapsed time or ETA)."""
from __future__ import annotations

import time

import pytest

pytest.importorskip("pytest_textual_snapshot")

from arena.cli import main  # noqa: E402
from arena.cli.dash.app import DashApp  # noqa: E402

CONFIG = """
[tournament]
name = "snap"
players = ["random", "first"]
[families.chess]
max_plies = 12
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("snap") / "runs"
    (root / "mine").mkdir(parents=True)
    (root / "mine" / "arena.toml").write_text(CONFIG)
    assert main(["run", str(root / "mine" / "arena.toml"), "--run-dir", str(root / "mine"), "--display", "none"]) == 0
    return root


async def settle(pilot, check=lambda app: True, timeout=20.0):
    deadline = time.monotonic() + timeout
    await pilot.pause(0.3)
    while not check(pilot.app) and time.monotonic() < deadline:
        await pilot.pause(0.1)
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # a blinking cursor is a clock too
    await pilot.pause(0.2)


def rows(selector):
    return lambda app: app.screen.query(selector) and app.screen.query_one(selector).row_count > 0


def test_runs_screen(snap_compare, root):
    async def ready(pilot):
        await settle(pilot, rows("#runs"))
    assert snap_compare(DashApp(root, refresh_s=60), run_before=ready)


def test_live_screen(snap_compare, root):
    async def ready(pilot):
        await settle(pilot, rows("#runs"))
        await pilot.press("enter")
        await settle(pilot, rows("#models"))
    assert snap_compare(DashApp(root, refresh_s=60), run_before=ready)


def test_matches_screen(snap_compare, root):
    async def ready(pilot):
        await settle(pilot, rows("#runs"))
        await pilot.press("m")
        await settle(pilot, rows("#matches"))
    assert snap_compare(DashApp(root, refresh_s=60), run_before=ready)


def test_compare_screen(snap_compare, root):
    async def ready(pilot):
        await settle(pilot, rows("#runs"))
        await pilot.press("c")
        app = pilot.app
        app.screen.query_one("#a").value = "random"
        app.screen.query_one("#b").value = "first"
        app.screen.query_one("#a").focus()
        await pilot.press("enter")
        await settle(pilot, lambda app: "P(random beats first)" in app.screen.query_one("#out").text, 30)
        app.screen.query_one("#out").focus()
    assert snap_compare(DashApp(root, refresh_s=60), run_before=ready)


def test_new_tournament_screen(snap_compare, root):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        pilot.app.screen.query_one("#t-rounds").value = "0"
        await settle(pilot)
    assert snap_compare(DashApp(root, refresh_s=60), run_before=ready)


def test_ratings_screen(snap_compare, root):
    async def ready(pilot):
        await settle(pilot, rows("#runs"))
        await pilot.press("t")
        await settle(pilot, rows("#ratings"))
    assert snap_compare(DashApp(root, refresh_s=60), run_before=ready)


def test_usage_screen(snap_compare, root):
    async def ready(pilot):
        await settle(pilot, rows("#runs"))
        await pilot.press("u")
        await settle(pilot, rows("#usage"))
    assert snap_compare(DashApp(root, refresh_s=60), run_before=ready)


def test_export_screen(snap_compare, root):
    async def ready(pilot):
        await settle(pilot, rows("#runs"))
        await pilot.press("e")
        await settle(pilot)
    assert snap_compare(DashApp(root, refresh_s=60), run_before=ready)


def test_loop_screen(snap_compare, root):
    async def ready(pilot):
        await settle(pilot, rows("#runs"))
        await pilot.press("l")
        await settle(pilot, lambda app: "no generations" in str(app.screen.query_one("#findings").render()))
        pilot.app.screen.query_one("#iterations").value = "0"  # an option the command refuses, shown
        await settle(pilot)
    assert snap_compare(DashApp(root, refresh_s=60), run_before=ready)
