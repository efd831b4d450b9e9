"""One writer per run directory: a second `arena run` on a directory another run is writing is
refused in one line, while the readers (`ratings`, `show`, `export`) keep working, during the run
and on a directory they cannot write."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.progress import finished_matches

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
[tournament]
name = "lock-drill"
families = ["chess"]
players = ["a", "b"]
rounds = {rounds}
seed = 3
matches_in_flight = 1

[families.chess]
max_plies = 6

[[variants]]
name = "a"
model = "mock/random"
latency_s = {latency}

[[variants]]
name = "b"
model = "mock/first"
latency_s = {latency}
"""


def _arena(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-m", "arena.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_a_second_run_on_the_same_directory_is_refused_while_readers_keep_working(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text(CONFIG.format(rounds=40, latency=0.02))
    run_dir = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "arena.cli", "run", str(cfg), "--run-dir", str(run_dir),
                              "--display", "none"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while finished_matches(run_dir) < 1 and time.time() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert first.poll() is None, "the first run ended before the drill could overlap it"
        second = _arena("run", str(cfg), "--run-dir", str(run_dir), "--display", "none")
        assert second.returncode != 0
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "another `arena run` is writing to" in lines[0], second.stderr
        assert "Traceback" not in second.stderr
        ratings = _arena("ratings", "--run-dir", str(run_dir))
        assert ratings.returncode == 0, ratings.stderr
        export = _arena("export", "matches", "--run-dir", str(run_dir), "--out", "-")
        assert export.returncode == 0 and export.stdout.strip(), export.stderr
    finally:
        first.kill()
        first.wait(timeout=10)
    # the kill released the lock with the process: the same command resumes
    again = _arena("run", str(cfg), "--run-dir", str(run_dir), "--display", "none")
    assert again.returncode == 0, again.stderr


def _without_write_access() -> tuple[str, ...]:
    """Root ignores file modes: where the test runs as root, the readers run without the
    capabilities that override them."""
    if os.geteuid() != 0:
        return ()
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: cannot take write access away")
    return ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner")


def test_readers_work_on_a_run_directory_they_cannot_write(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text(CONFIG.format(rounds=1, latency=0))
    source = tmp_path / "source"
    assert _arena("run", str(cfg), "--run-dir", str(source), "--display", "none").returncode == 0
    copy = tmp_path / "copy"
    shutil.copytree(source, copy)
    match_id = sqlite3.connect(copy / "arena.sqlite").execute("SELECT id FROM matches LIMIT 1").fetchone()[0]
    for p in [copy, *copy.iterdir()]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    before = sorted(p.name for p in copy.iterdir())
    kw = {"prefix": _without_write_access()}
    for args in (("ratings",), ("show", match_id[:12]), ("export", "matches", "--out", "-")):
        got = _arena(*args, "--run-dir", str(copy), **kw)
        assert got.returncode == 0, (args, got.stderr)
        assert got.stdout.strip(), args
    assert sorted(p.name for p in copy.iterdir()) == before  # nothing was written
    refused = _arena("run", str(cfg), "--run-dir", str(copy), "--display", "none", **kw)
    assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "Traceback" not in refused.stderr
