"""`arena run` plays a real chess round-robin on the embedded model and rates it."""
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
[tournament]
families = ["chess"]
players = ["smol-cold", "smol-warm"]
rounds = 1
seed = 7

[families.chess]
max_plies = 8
"""


def test_real_embedded_tournament_end_to_end(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text(CONFIG)
    run_dir = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "arena.cli", "run", str(cfg), "--run-dir", str(run_dir),
                           "--display", "none"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "arena.cli", "ratings", "--run-dir", str(run_dir), "--format", "json"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    rows = {r["variant"]: r for r in json.loads(proc.stdout)}
    assert set(rows) == {"smol-cold", "smol-warm"}
    assert all(r["matches"] == 2 and r["sigma"] < 25 / 3 for r in rows.values())
    db = sqlite3.connect(run_dir / "arena.sqlite")
    calls = db.execute("SELECT COUNT(*), SUM(output_tokens) FROM calls WHERE variant LIKE 'smol-%'").fetchone()
    assert calls[0] >= 2 and calls[1] > 0  # real generations, really counted
    assert db.execute("SELECT COUNT(*) FROM matches WHERE status='finished'").fetchone()[0] == 2
