"""Crash drill for group commits: a run of instant players (whose matches are written many to a
transaction) is SIGKILLed from outside while matches are in flight, then re-run with the same
command. Every match stored before the kill is still there and was not played again, none is
half-written or duplicated, and the store ends like an uninterrupted run's."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.drills.test_crash import _snapshot

REPO = Path(__file__).resolve().parents[2]
ROUNDS = 400
TOTAL = 2 * ROUNDS
CONFIG = f"""
[tournament]
name = "group-commit-drill"
families = ["connect-four"]
players = ["random", "first"]
rounds = {ROUNDS}
matches_in_flight = 8
"""


def _cmd(cfg: Path, run_dir: Path) -> list[str]:
    return [sys.executable, "-m", "arena.cli", "run", str(cfg), "--run-dir", str(run_dir), "--display", "none"]


def _query(run_dir: Path, sql: str) -> list[tuple]:
    path = run_dir / "arena.sqlite"
    if not path.exists():  # not created yet
        return []
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    except sqlite3.OperationalError:  # its tables not created yet
        return []
    finally:
        db.close()


def _whole(run_dir: Path) -> list[str]:
    """Matches missing any part: a call per ply, the outcome set."""
    rows = _query(run_dir, "SELECT m.id, m.details, (SELECT COUNT(*) FROM calls c WHERE c.match_id = m.id), "
                           "(SELECT COUNT(*) FROM ranked_sets r WHERE r.match_id = m.id) FROM matches m")
    return [mid for mid, details, calls, sets in rows if calls != json.loads(details)["plies"] or sets != 1]


def test_a_run_killed_mid_flight_keeps_every_stored_match_and_resumes_without_duplicates(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text(CONFIG)
    reference = tmp_path / "reference"
    assert subprocess.run(_cmd(cfg, reference), cwd=REPO, capture_output=True, timeout=300).returncode == 0

    run_dir = tmp_path / "run"
    proc = subprocess.Popen(_cmd(cfg, run_dir), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (_query(run_dir, "SELECT COUNT(*) FROM matches") or [(0,)])[0][0] >= 40:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-2000:]

    before = dict(_query(run_dir, "SELECT id, finished_at FROM matches"))
    assert 40 <= len(before) < TOTAL  # killed mid-flight
    assert _whole(run_dir) == []  # nothing half-written

    again = subprocess.run(_cmd(cfg, run_dir), cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    after = dict(_query(run_dir, "SELECT id, finished_at FROM matches"))
    assert len(after) == TOTAL and _whole(run_dir) == []
    assert {mid: after[mid] for mid in before} == before  # each stored match kept, not played again
    assert _snapshot(run_dir) == _snapshot(reference)  # no duplicate call or set, the same ratings
