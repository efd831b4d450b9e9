"""A killed tournament, re-run with the same command, ends exactly like an uninterrupted one."""
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from arena.config import parse_config
from arena.engine.runner import run
from arena.engine.store import Store

CONFIG = """
[tournament]
families = ["chess"]
players = ["a", "b", "c"]
rounds = 3
seed = 11
matches_in_flight = 3

[families.chess]
max_plies = 30

[[variants]]
name = "a"
model = "mock/random"
latency_s = 0.01

[[variants]]
name = "b"
model = "mock/random"
latency_s = 0.01

[[variants]]
name = "c"
model = "mock/first"
latency_s = 0.01
"""


def _finished(run_dir: Path) -> list[str]:
    db = sqlite3.connect(run_dir / "arena.sqlite")
    try:
        return [r[0] for r in db.execute("SELECT id FROM matches WHERE status='finished' ORDER BY id")]
    except sqlite3.OperationalError:  # the file exists, the schema not yet
        return []
    finally:
        db.close()


def _ratings(run_dir: Path):
    s = Store(run_dir, create=False)
    try:
        return sorted((r.variant, r.role, r.family, round(r.mu, 9), round(r.sigma, 9)) for r in s.ratings())
    finally:
        s.close()


def _arena(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "arena.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[3], **kw)


def test_sigkill_at_several_points_then_rerun_matches_an_uninterrupted_run(tmp_path):
    cfg_file = tmp_path / "t.toml"
    cfg_file.write_text(CONFIG)
    reference = tmp_path / "reference"
    run(parse_config(__import__("tomllib").loads(CONFIG)), reference)
    expected = _finished(reference)
    assert len(expected) == 18

    interrupted = tmp_path / "interrupted"
    for kill_after in (2, 7, 12):  # kill again and again, each time a bit further in
        proc = _arena(["run", str(cfg_file), "--run-dir", str(interrupted), "--display", "none"])
        deadline = time.time() + 60
        while time.time() < deadline:
            if (interrupted / "arena.sqlite").exists() and len(_finished(interrupted)) >= kill_after:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    proc = _arena(["run", str(cfg_file), "--run-dir", str(interrupted), "--display", "none"])
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()
    assert _finished(interrupted) == expected  # none lost, none duplicated
    db = sqlite3.connect(interrupted / "arena.sqlite")
    assert db.execute("SELECT COUNT(*) FROM matches").fetchone()[0] == 18
    orphans = db.execute("SELECT COUNT(*) FROM calls WHERE match_id NOT IN (SELECT id FROM matches)").fetchone()[0]
    assert orphans == 0  # a killed match leaves no half-written calls behind
    db.close()
    assert _ratings(interrupted) == _ratings(reference)


def test_rerun_of_a_finished_tournament_plays_nothing(tmp_path):
    cfg = parse_config(__import__("tomllib").loads(CONFIG))
    first = run(cfg, tmp_path)
    again = run(cfg, tmp_path)
    assert first.finished == 18 and again.finished == 0 and again.skipped == 18
    partial_dir = tmp_path / "p"
    part = run(cfg, partial_dir, max_matches=5)
    rest = run(cfg, partial_dir)
    assert (part.finished, rest.finished, rest.skipped) == (5, 13, 5)
    assert _ratings(partial_dir) == _ratings(tmp_path)
