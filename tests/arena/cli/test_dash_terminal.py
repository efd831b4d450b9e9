"""The real dashboard in a real terminal (tmux): typed into with send-keys, read with
capture-pane, and the store checked afterwards. Quit and reopen: the run is still there."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arena.cli import main
from arena.engine.store import Store

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

CONFIG = """
[tournament]
name = "term"
players = ["random", "first"]
[families.chess]
max_plies = 12
"""
SOURCE = str(Path(__file__).resolve().parents[3])


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=20).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_for(session: str, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = screen(session)
        if text in shown:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never showed; the screen was:\n{screen(session)}")


def keys(session: str, *typed: str) -> None:
    for k in typed:
        tmux("send-keys", "-t", session, *(["-l", k[2:]] if k.startswith("l:") else [k]))
        time.sleep(0.15)


@pytest.fixture
def dash(tmp_path):
    run_dir = tmp_path / "mine"
    run_dir.mkdir()
    (run_dir / "arena.toml").write_text(CONFIG)
    assert main(["run", str(run_dir / "arena.toml"), "--run-dir", str(run_dir), "--display", "none"]) == 0
    session = f"arena-dash-{os.getpid()}"
    env = f"PYTHONPATH={SOURCE} TERM=xterm-256color"

    def start(command: str = "dash") -> None:
        tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24",
             f"cd {tmp_path} && env {env} {sys.executable} -m arena.cli {command}; sleep 30")
    yield session, run_dir, start
    tmux("kill-session", "-t", session)


def test_the_dashboard_in_a_terminal_plays_more_matches_and_survives_a_restart(dash):
    session, run_dir, start = dash
    start()
    shown = wait_for(session, "finished")
    assert "mine" in shown and "term-" in shown and "2/2" in shown, shown
    keys(session, "c")
    wait_for(session, "Compare in mine")
    # A, B, lineage, family, compare, N, play more: typed and tabbed as a user would.
    keys(session, "l:random", "Tab", "l:first", "Enter")
    wait_for(session, "P(random beats first)")
    keys(session, "Tab", "Tab", "Tab", "Tab", "C-u", "l:2", "Tab", "Enter")
    shown = wait_for(session, "4/4", 40)
    wait_for(session, "[finished]", 20)
    store = Store(run_dir, create=False)
    try:
        assert store.count("finished") == 4  # exactly the two more matches of random vs first
    finally:
        store.close()
    keys(session, "q")
    time.sleep(0.5)
    tmux("kill-session", "-t", session)
    start("")  # reopened, as plain `arena` in a terminal: the run and its matches are still there
    shown = wait_for(session, "term-")
    assert "4/4" in shown
