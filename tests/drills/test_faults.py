"""Fault drill: tournaments whose players sit behind real HTTP servers (tests/support/fault_server.py)
that fail on purpose, through the official openai and anthropic clients.

- 30% of calls fail (429 with Retry-After, 500, 503, timeouts, malformed bodies, dropped
  connections): every match still finishes, the failures are absorbed by retries.
- A variant whose server always fails (500 for ever, a revoked key, a server that is down):
  its matches are recorded as failed with the reason, every other match finishes with the
  ratings it would have had, and a re-run retries the failed ones without duplicating anything.
"""
from __future__ import annotations

import random
import re
import socket
import sqlite3
from pathlib import Path

from arena.config import parse_config
from arena.engine.runner import run
from tests.support.fault_server import FaultServer

LEGAL = re.compile(r"Legal columns:\s*([\d ]+)\s*$")


def mover(body: dict) -> str:
    """A model that plays a random legal Connect Four column (seeded by the prompt)."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    content = users[-1].get("content", "") if users else ""
    if isinstance(content, list):  # Anthropic content blocks
        content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
    found = LEGAL.search(content)
    if not found:
        return "3"
    cols = found.group(1).split()
    return random.Random(content).choice(cols)


def _net(name: str, url: str, **extra) -> dict:
    return {"name": name, "model": f"openai-api/drill/{name}", "base_url": url, "temperature": 0.5, **extra}


def _rows(run_dir: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(run_dir / "arena.sqlite")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_every_match_finishes_when_30_percent_of_calls_fail_in_every_way(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-drill-0000000000")
    kinds = ("429", "500", "503", "slow", "malformed", "drop")
    with FaultServer(reply=mover, failure_rate=0.3, failure_kinds=kinds, seed=3, retry_after=0.05,
                     slow_s=5.0) as srv:
        cfg = parse_config({
            "tournament": {"name": "faults", "families": ["connect-four"], "players": ["oa", "ob", "claude", "rnd"],
                           "seed": 2, "max_attempts": 12, "call_timeout_s": 0.5, "matches_in_flight": 12},
            "families": {"connect-four": {"rows": 4, "cols": 5, "connect": 3}},  # short games: fewer waits
            "variants": [_net("oa", srv.openai_url), _net("ob", srv.openai_url, temperature=0.9),
                         {"name": "claude", "model": "anthropic/claude-drill", "base_url": srv.url},
                         {"name": "rnd", "model": "mock/random"}],
        })
        summary = run(cfg, tmp_path)
        sent = dict(srv.faults_sent)

    assert set(sent) == set(kinds), sent  # every kind of failure happened
    assert summary.total == 12 and summary.finished == 12 and summary.failed == 0
    statuses = _rows(tmp_path, "SELECT status, error FROM matches")
    assert statuses == [("finished", None)] * 12
    retried, failed_calls = _rows(tmp_path, "SELECT SUM(retries), SUM(error IS NOT NULL) FROM calls")[0]
    assert retried >= sum(sent.values()) * 0.9 and failed_calls == 0
    # the games are real: every one ended by a line, a full board or a forfeit, with legal moves only
    summaries = [s for (s,) in _rows(tmp_path, "SELECT summary FROM matches")]
    assert all(re.search(r"connects 3|board is full|forfeits", s) for s in summaries), summaries
    assert {r.variant for r in summary.ratings} == {"oa", "ob", "claude", "rnd"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on exit: connections are refused


def test_a_permanently_failing_variant_fails_only_its_own_matches(tmp_path, monkeypatch):
    monkeypatch.setenv("DRILL_GOOD_KEY", "drill-good-key-1234")
    monkeypatch.setenv("DRILL_REVOKED_KEY", "drill-revoked-key-5678")
    players = ["ga", "gb", "rnd", "broken", "revoked", "down"]
    with FaultServer(reply=mover) as good, \
            FaultServer(reply=mover, failure_rate=1.0, failure_kinds=("500",)) as broken, \
            FaultServer(reply=mover, api_key="drill-good-key-1234") as guarded:
        variants = [_net("ga", good.openai_url), _net("gb", good.openai_url, temperature=0.1),
                    {"name": "rnd", "model": "mock/random"},
                    _net("broken", broken.openai_url),
                    _net("revoked", guarded.openai_url, api_key_env="DRILL_REVOKED_KEY"),
                    _net("down", f"http://127.0.0.1:{_closed_port()}/v1")]
        cfg = parse_config({
            "tournament": {"name": "broken", "families": ["connect-four"], "players": players, "seed": 4,
                           "max_attempts": 3, "call_timeout_s": 2},
            "variants": variants,
        })
        first = run(cfg, tmp_path)
        calls_first = _rows(tmp_path, "SELECT match_id, COUNT(*) FROM calls GROUP BY match_id ORDER BY match_id")
        second = run(cfg, tmp_path)  # the failed matches are retried, and fail again

    healthy = {"ga", "gb", "rnd"}
    assert first.total == 30 and first.finished == 6 and first.failed == 24
    assert second.skipped == 6 and second.finished == 0 and second.failed == 24
    rows = _rows(tmp_path, "SELECT seats, status, error FROM matches")
    assert len(rows) == 30  # re-running added nothing
    # a retried match replaces its calls rather than adding to them
    assert _rows(tmp_path, "SELECT match_id, COUNT(*) FROM calls GROUP BY match_id ORDER BY match_id") == calls_first
    for seats, status, error in rows:
        bad = set(re.findall(r'"(\w+)"', seats)) - healthy
        if not bad:
            assert status == "finished" and error is None
            continue
        assert status == "failed"
        reasons = {"broken": "500", "revoked": "401", "down": "connection failed"}
        assert any(reasons[b] in error for b in bad), error
    # ratings come from the finished matches only: each healthy player played its 4 games
    overall = [r for r in second.ratings if r.role == "player" and r.family == "*"]
    assert {r.variant for r in overall} == healthy and all(r.matches == 4 for r in overall)
