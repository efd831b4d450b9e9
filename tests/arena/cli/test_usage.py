"""`arena usage`: the calls, tokens and cost per tournament x variant x role are stored with the run
and equal what was called: a failed match's calls still count after its replay replaced them."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from arena.config import parse_config
from arena.engine.runner import run
from tests.support.fault_server import FaultServer

ROOT = Path(__file__).resolve().parents[3]


def arena(*args):
    proc = subprocess.run([sys.executable, "-m", "arena.cli", *args], capture_output=True, text=True, cwd=ROOT, check=False,
                          timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def config(url: str) -> dict:
    return {"tournament": {"name": "spend", "families": ["chess"], "players": ["paid", "random"], "seed": 3,
                           "matches_in_flight": 1, "rounds": 3},
            "families": {"chess": {"max_plies": 6}},
            "variants": [{"name": "paid", "model": "openai-api/fault/m1", "base_url": url, "max_tokens": 8,
                          "price_in": 10.0, "price_out": 20.0}]}


def calls_table(run_dir: Path) -> dict:
    db = sqlite3.connect(run_dir / "arena.sqlite")
    try:
        row = db.execute(
            "SELECT SUM(error IS NULL), SUM(error IS NULL AND cached), SUM(error IS NOT NULL), "
            "TOTAL(CASE WHEN error IS NULL AND NOT cached THEN input_tokens END), "
            "TOTAL(CASE WHEN error IS NULL AND NOT cached THEN output_tokens END), "
            "TOTAL(CASE WHEN error IS NULL AND NOT cached THEN cost_usd END) FROM calls").fetchone()
    finally:
        db.close()
    return dict(zip(("calls", "cached", "errors", "input_tokens", "output_tokens", "cost_usd"), row))


def usage(run_dir: Path, *extra: str) -> dict:
    code, out, err = arena("usage", "--run-dir", str(run_dir), "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def paid_row(got: dict) -> dict:
    return next(r for r in got["rows"] if r["variant"] == "paid")


def test_usage_totals_equal_the_calls_made_and_survive_a_replay(tmp_path):
    with FaultServer(text="e4", failure_rate=0.2, failure_kinds=("401",), seed=4) as srv:
        first = run(parse_config(config(srv.openai_url)), tmp_path)
        assert first.failed > 0  # some matches lost a call: they are replayed below
        got = usage(tmp_path)
        table = calls_table(tmp_path)
        assert {k: got["total"][k] for k in ("calls", "cached", "errors", "input_tokens", "output_tokens")} == \
            {k: int(table[k]) for k in ("calls", "cached", "errors", "input_tokens", "output_tokens")}
        assert got["total"]["cost_usd"] == pytest.approx(table["cost_usd"])
        paid = paid_row(got)  # the mock player's calls reach no server
        assert paid["calls"] - paid["cached"] == srv.answered
        assert paid["errors"] == got["total"]["errors"] == srv.faults_sent["401"]

        srv.failure_rate = 0.0
        again = run(parse_config(config(srv.openai_url)), tmp_path)
        assert again.failed == 0 and again.finished == first.failed
        got = usage(tmp_path)
        # Every answered request counts, the failed attempts' included, though the replays replaced
        # those matches' calls in the calls table.
        paid = paid_row(got)
        assert paid["calls"] - paid["cached"] == srv.answered
        assert paid["errors"] == srv.faults_sent["401"] > 0
        assert calls_table(tmp_path)["errors"] == 0
        assert got["total"]["cached"] > 0  # the replayed matches' first calls come from the cache
    rows = got["rows"]
    assert {(r["tournament"], r["variant"], r["role"]) for r in rows} == {(first.tournament_id, "paid", "player"),
                                                                          (first.tournament_id, "random", "player")}
    assert paid["cost_usd"] == pytest.approx((paid["input_tokens"] * 10.0 + paid["output_tokens"] * 20.0) / 1e6)


def test_usage_table_and_tournament_filter(tmp_path):
    a = run(parse_config({"tournament": {"name": "one", "families": ["chess"], "players": ["random", "first"]},
                          "families": {"chess": {"max_plies": 4}}}), tmp_path)
    b = run(parse_config({"tournament": {"name": "two", "families": ["chess"], "players": ["random", "first"]},
                          "families": {"chess": {"max_plies": 4}}}), tmp_path)
    code, out, err = arena("usage", "--run-dir", str(tmp_path))
    assert code == 0, err
    assert a.tournament_id in out and b.tournament_id in out and "total" in out
    only = usage(tmp_path, "--tournament", a.tournament_id)
    assert {r["tournament"] for r in only["rows"]} == {a.tournament_id}
    both = usage(tmp_path)
    assert both["total"]["calls"] == only["total"]["calls"] + usage(tmp_path, "--tournament", b.tournament_id)["total"]["calls"]
    code, out, err = arena("usage", "--run-dir", str(tmp_path), "--tournament", "nope")
    assert code != 0 and len(err.strip().splitlines()) == 1 and "no tournament 'nope'" in err
    assert "Traceback" not in err


def test_the_calls_of_a_match_stopped_at_the_cost_limit_count(tmp_path):
    with FaultServer(text="e4") as srv:
        data = config(srv.openai_url)
        data["tournament"]["cost_limit_usd"] = 0.0005  # a few calls: the run stops inside a match
        data["variants"][0]["price_in"] = data["variants"][0]["price_out"] = 10.0
        summary = run(parse_config(data), tmp_path)
        assert summary.stopped
        paid = paid_row(usage(tmp_path))
        assert paid["calls"] == srv.answered > 0  # the stopped match was not committed, its calls were made
        db = sqlite3.connect(tmp_path / "arena.sqlite")
        in_table = db.execute("SELECT COUNT(*) FROM calls WHERE variant='paid'").fetchone()[0]
        db.close()
        assert paid["calls"] > in_table  # the stopped match's calls are in no committed match
        assert paid["cost_usd"] == pytest.approx((paid["input_tokens"] + paid["output_tokens"]) * 10.0 / 1e6)


def test_usage_shows_each_models_first_token_time_and_rate_of_its_streamed_calls(tmp_path):
    # "e4" and a second word: a streamed answer of two tokens has a generation rate.
    with FaultServer(text="e4 now", latency_s=0.05, token_s=0.01) as srv:
        data = config(srv.openai_url)
        data["families"]["chess"]["max_plies"] = 2
        run(parse_config(data), tmp_path)
        answered = srv.answered
    speed = usage(tmp_path)["speed"]
    assert [s["model"] for s in speed] == ["openai-api/fault/m1"]  # the scripted player is never streamed
    s = speed[0]
    assert s["streamed"] == answered > 0
    assert 0.05 <= s["first_token_s_median"] < 1 and 0.05 <= s["first_token_s_mean"] < 1
    assert 10 < s["tokens_per_s_median"] < 200
    code, out, err = arena("usage", "--run-dir", str(tmp_path))
    assert code == 0, err
    assert "first token s" in out and "openai-api/fault/m1" in out
