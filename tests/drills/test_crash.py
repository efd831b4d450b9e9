"""Crash drill: a tournament of a procedural and a multi-role family (connect-four and
predict-output: authors, sandboxed programs, players, referees, meta-referees) is SIGKILLed
between commits, inside a match's write transaction and inside the final ratings write, then
re-run with the same command. The store ends exactly like an uninterrupted run's: the same
matches, none lost or duplicated, nothing half-written, the same ratings and rating history.
"""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
[tournament]
name = "crash-drill"
families = ["connect-four", "predict-output"]
players = ["rnd", "author", "fortytwo"]
referees = ["rnd", "author", "fortytwo"]  # scripted players judge only where named
rounds = 2
seed = 5
matches_in_flight = 4

[families.predict-output]
timeout_s = 2.0

[[variants]]
name = "rnd"
model = "mock/random"

[[variants]]
name = "author"
model = "mock/constant"
text = '{"question": "What is printed?", "program": "total = 0\\nfor i in range(10):\\n    total += i\\nprint(total)"}'

[[variants]]
name = "fortytwo"
model = "mock/constant"
text = "45"
"""
TOTAL = 24  # (3 players x 2 seat orders) x 2 families x 2 rounds


def _killer(cfg: Path, run_dir: Path, plan: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.drills.killer", str(cfg), str(run_dir), plan], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def _cli(cfg: Path, run_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arena.cli", "run", str(cfg), "--run-dir", str(run_dir),
                           "--display", "none"], cwd=REPO, capture_output=True, text=True, timeout=120)


def _snapshot(run_dir: Path) -> dict:
    """Everything a re-run must reproduce, free of timestamps."""
    db = sqlite3.connect(run_dir / "arena.sqlite")
    try:
        q = lambda sql: db.execute(sql).fetchall()  # noqa: E731
        return {
            "matches": q("SELECT id, family, seq, status, summary, ranks, details FROM matches ORDER BY id"),
            "calls": q("SELECT match_id, variant, role, messages, response FROM calls ORDER BY match_id, id"),
            "ranked_sets": q("SELECT match_id, family, role, criterion, body FROM ranked_sets ORDER BY match_id, id"),
            "failures": q("SELECT match_id, variant, seat, role, kind, detail FROM format_failures "
                          "ORDER BY match_id, id"),
            "ratings": [(v, r, f, round(mu, 9), round(s, 9), *rest) for v, r, f, mu, s, *rest in
                        q("SELECT * FROM ratings ORDER BY variant, role, family")],
            "history": [(m, v, r, f, round(mu, 9), round(s, 9)) for m, v, r, f, mu, s in
                        q("SELECT match_id, variant, role, family, mu, sigma FROM rating_history ORDER BY id")],
            "status": q("SELECT status FROM tournaments"),
        }
    finally:
        db.close()


def _finished(run_dir: Path) -> int:
    db = sqlite3.connect(run_dir / "arena.sqlite")
    try:
        return db.execute("SELECT COUNT(*) FROM matches WHERE status='finished'").fetchone()[0]
    finally:
        db.close()


def test_killed_at_every_kind_of_point_then_rerun_equals_an_uninterrupted_run(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text(CONFIG)
    reference = tmp_path / "reference"
    assert _cli(cfg, reference).returncode == 0
    want = _snapshot(reference)
    assert len(want["matches"]) == TOTAL and all(m[3] == "finished" for m in want["matches"])
    assert {rs[2] for rs in want["ranked_sets"]} >= {"author", "player"}  # a multi-role family was played
    assert want["ratings"] and want["history"]

    run = tmp_path / "interrupted"
    done = []
    for plan in ("after-commit:3", "mid-commit:4", "after-commit:5", "mid-commit:1", "mid-ratings:0"):
        proc = _killer(cfg, run, plan)
        assert proc.returncode == -signal.SIGKILL, (plan, proc.returncode, proc.stderr[-2000:])
        done.append(_finished(run))
    # Each kill lost no match whose commit had returned, and only the transaction being written: the
    # matches that finished together are committed together (arena/engine/commits.py), so a kill
    # inside that write loses all of them, each whole.
    assert done == sorted(done) and done[0] >= 3 and done[0] <= done[1] < done[0] + 4
    assert done[2] >= done[1] + 5 and done[3] == done[2] and done[-2] < TOTAL
    # run on until the last kill lands in the ratings write: every match is stored by then
    while _finished(run) < TOTAL:
        _killer(cfg, run, "mid-ratings:0")
    assert _killer(cfg, run, "mid-ratings:7").returncode == -signal.SIGKILL

    final = _cli(cfg, run)
    assert final.returncode == 0, final.stderr
    got = _snapshot(run)
    assert got == want
    db = sqlite3.connect(run / "arena.sqlite")
    orphans = [db.execute(f"SELECT COUNT(*) FROM {t} WHERE match_id NOT IN (SELECT id FROM matches)").fetchone()[0]
               for t in ("calls", "ranked_sets", "format_failures", "rating_history")]
    db.close()
    assert orphans == [0, 0, 0, 0]


def test_a_rerun_after_the_ratings_write_was_killed_plays_nothing_and_restores_the_ratings(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text(CONFIG)
    reference = tmp_path / "reference"
    assert _cli(cfg, reference).returncode == 0
    run = tmp_path / "run"
    assert _killer(cfg, run, "mid-ratings:3").returncode == -signal.SIGKILL
    assert _finished(run) == TOTAL
    db = sqlite3.connect(run / "arena.sqlite")
    assert db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 0  # the killed write left nothing half-done
    db.close()
    again = _killer(cfg, run, "none")
    assert again.returncode == 0 and "finished=0 failed=0 skipped=24" in again.stdout
    assert _snapshot(run) == _snapshot(reference)
