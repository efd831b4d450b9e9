"""Whole tournaments whose players sit behind a flaky OpenAI-compatible server."""
from __future__ import annotations

import zlib
from pathlib import Path

from arena.config import parse_config
from arena.engine.runner import run
from arena.engine.store import Store
from tests.support.fault_server import FaultServer


def chess_reply(body: dict) -> str:
    """A legal move from the list the chess family puts in its prompt, chosen deterministically."""
    last = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
    moves = []
    for token in last.rsplit("Legal moves:", 1)[1].split():
        moves.append(token.rstrip("."))
        if token.endswith("."):
            break
    return moves[zlib.crc32(last.encode()) % len(moves)]


def _config(url: str, *, extra: dict | None = None, **tournament) -> dict:
    return {
        "tournament": {"name": "flaky", "players": ["net-a", "net-b", "random"], "families": ["chess"],
                       "seed": 3, "max_attempts": 10, "call_timeout_s": 5, **tournament},
        "variants": [
            {"name": "net-a", "model": "openai-api/fault/model-a", "base_url": url, "temperature": 0.7, **(extra or {})},
            {"name": "net-b", "model": "openai-api/fault/model-b", "base_url": url, "temperature": 0.2, **(extra or {})},
        ],
        "families": {"chess": {"max_plies": 10}},
    }


def test_every_match_finishes_when_30_percent_of_calls_fail_transiently(tmp_path):
    with FaultServer(reply=chess_reply, failure_rate=0.3, seed=11, retry_after=0.05,
                     failure_kinds=("500", "503", "429", "drop", "malformed")) as srv:
        summary = run(parse_config(_config(srv.openai_url)), tmp_path)
        faults = sum(srv.faults_sent.values())

    assert summary.total == 6  # 3 players, both colours
    assert summary.finished == 6 and summary.failed == 0 and summary.complete
    store = Store(tmp_path, create=False)
    matches = list(store.iter_matches())
    retries = store.db.execute("SELECT SUM(retries), COUNT(*) FROM calls WHERE error IS NULL").fetchone()
    errors = store.db.execute("SELECT COUNT(*) FROM calls WHERE error IS NOT NULL").fetchone()[0]
    store.close()
    assert [m["status"] for m in matches] == ["finished"] * 6
    assert faults > 0 and retries[0] > 0  # the failures happened and were absorbed by retries
    assert errors == 0


def test_no_key_lands_anywhere_in_the_run_directory(tmp_path, monkeypatch):
    good_key = "sk-good-SECRET-4f9a8b7c6d5e"
    bad_key = "sk-bad-SECRET-0a1b2c3d4e5f"
    monkeypatch.setenv("NET_GOOD_KEY", good_key)
    monkeypatch.setenv("NET_BAD_KEY", bad_key)
    # The server demands the good key and, like some providers, echoes a wrong key in its 401.
    with FaultServer(reply=chess_reply, api_key=good_key) as srv:
        cfg = _config(srv.openai_url)
        cfg["variants"][0]["api_key_env"] = "NET_GOOD_KEY"
        cfg["variants"][1]["api_key_env"] = "NET_BAD_KEY"
        summary = run(parse_config(cfg), tmp_path)
        sent = [h.get("authorization", "") for h in srv.headers]

    assert f"Bearer {good_key}" in sent and f"Bearer {bad_key}" in sent  # both went over the wire
    assert summary.finished == 2 and summary.failed == 4  # every match net-b plays fails on the 401
    store = Store(tmp_path, create=False)
    errors = [r[0] for r in store.db.execute("SELECT error FROM matches WHERE error IS NOT NULL")]
    store.close()
    assert errors and all("401" in e and "Incorrect API key provided" in e for e in errors)
    files = [p for p in Path(tmp_path).rglob("*") if p.is_file()]
    assert any(p.name == "arena.sqlite" for p in files)
    for p in files:  # the database, its WAL, and anything else the run wrote
        data = p.read_bytes()
        for secret in (good_key, bad_key, "SECRET-4f9a", "SECRET-0a1b"):
            assert secret.encode() not in data, f"{secret!r} found in {p.name}"
