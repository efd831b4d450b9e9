"""Resume is exact: a predict-output match is SIGKILLed while its authors' re-asks are in flight (one
author's server fast, the other's slow, so the calls finish in another order than they were asked),
then re-run. Every answer cached before the kill is used again, and the store ends exactly like an
uninterrupted run's: the same calls, the same programs, the same ratings."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.drills.test_crash import _snapshot
from tests.support.fault_server import FaultServer
from tournaments.families.predict_output.family import AUTHOR_PROMPT

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
[tournament]
name = "resume-drill"
families = ["predict-output"]
players = ["fast", "slow"]
seed = 13
matches_in_flight = 1

[families.predict-output]
meta_judging = false

[[variants]]
name = "fast"
model = "openai-api/fault/m1"
base_url = "{fast}"

[[variants]]
name = "slow"
model = "openai-api/fault/m1"
base_url = "{slow}"
"""


def _reply(body: dict) -> str:
    """Every answer depends on the call's seed, so a call asked under another number answers otherwise.
    An author's first answer is unusable, so each author is re-asked."""
    messages = [m for m in body["messages"] if m.get("role") != "system"]
    n = int(body.get("seed") or 0) % 97
    if messages[0].get("content", "").startswith(AUTHOR_PROMPT):
        if len(messages) == 1:
            return "I would rather not."
        return json.dumps({"question": "What is printed?", "program": f"print({n} * 3)"})
    return str(n * 3)


def _run(cfg: Path, run_dir: Path, plan: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.drills.killer", str(cfg), str(run_dir), plan], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def _count(run_dir: Path, sql: str) -> int:
    db = sqlite3.connect(run_dir / "arena.sqlite")
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def test_a_match_killed_with_reasks_in_flight_resumes_with_the_same_calls_and_cache_hits(tmp_path):
    with FaultServer(reply=_reply) as fast, FaultServer(reply=_reply, latency_s=0.4) as slow:
        cfg = tmp_path / "t.toml"
        cfg.write_text(CONFIG.format(fast=fast.openai_url, slow=slow.openai_url))
        reference = tmp_path / "reference"
        assert _run(cfg, reference, "none").returncode == 0
        want = _snapshot(reference)
        assert all(m[3] == "finished" for m in want["matches"]) and len(want["matches"]) == 2
        assert any("author" in c[2] and len(json.loads(c[3])) == 3 for c in want["calls"])  # re-asked

        run = tmp_path / "run"
        # fast's answer and its re-ask's, then slow's first answer are cached; slow's re-ask is in flight
        killed = _run(cfg, run, "after-cached:3")
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        assert _count(run, "SELECT COUNT(*) FROM matches") == 0  # the killed match left nothing
        cached = _count(run, "SELECT COUNT(*) FROM response_cache")
        assert cached == 3
        again = _run(cfg, run, "none")
        assert again.returncode == 0, again.stderr[-2000:]
    assert _count(run, "SELECT COUNT(*) FROM calls WHERE cached=1") == cached  # every paid answer reused
    assert _snapshot(run) == want
