"""Failure drill: a failed model call in any role of any family fails the match, never a draw.

Every family is played through the real CLI (`arena run`) with one variant, "net", sitting behind an
OpenAI-compatible server (tests/support/fault_server.py) in one role: author, player, referee or
meta-referee. In the first run the server is down: the match must be stored as failed (no ranked set,
no rating), and `arena run` must exit 4. Then the server comes back on the same address (the same
variant definition) and the same command finishes every match. A spent cost limit must stop the run
cleanly (exit 3) with nothing half-committed, and a re-run with a higher limit must finish it.
"""
from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest

from arena.cli import main
from arena.config import parse_config
from arena.engine.runner import run
from tests.support.fault_server import FaultServer

AUTHOR, PLAYER, REFEREE, META = "author", "player", "referee", "meta-referee"
# the roles each family calls a model in
ROLES = {
    "chess": (PLAYER,),
    "connect-four": (PLAYER,),
    "programming": (AUTHOR, PLAYER, REFEREE, META),
    "predict-output": (AUTHOR, PLAYER, REFEREE, META),
    "trivia": (AUTHOR, PLAYER, REFEREE, META),
    "negotiation": (PLAYER, REFEREE, META),
    "social": (AUTHOR, PLAYER, REFEREE, META),
}
CASES = [(f, r) for f, roles in ROLES.items() for r in roles]
# small games, no re-asks where a family allows it: the drill is about failures, not play
OPTIONS = {"chess": {"max_plies": 6}, "connect-four": {"rows": 4, "cols": 4, "connect": 3},
           "programming": {"retries": 0}, "predict-output": {"retries": 0}, "negotiation": {"rounds": 2}}
# a usable trivia question (and a readable answer), so trivia reaches its players and panels
QA = "Question: Which river flows through Paris?\nAnswer: The Seine"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on exit: nothing listens there until we start a server


def _toml(data: dict) -> str:
    """The config as TOML (JSON scalars and string lists are TOML too)."""
    lines = ["[tournament]"] + [f"{k} = {json.dumps(v)}" for k, v in data["tournament"].items()]
    for name, opts in data.get("families", {}).items():
        lines += [f'\n[families."{name}"]'] + [f"{k} = {json.dumps(v)}" for k, v in opts.items()]
    for v in data["variants"]:
        lines += ["\n[[variants]]"] + [f"{k} = {json.dumps(x)}" for k, x in v.items()]
    return "\n".join(lines) + "\n"


def _config(family: str, role: str, port: int, **tournament) -> dict:
    """`net` (the server at `port`) takes `role`; scripted variants take every other role."""
    net = {"name": "net", "model": "openai-api/drill/net", "base_url": f"http://127.0.0.1:{port}/v1",
           "max_tokens": 64}
    return {
        "tournament": {
            "name": f"fail-{family}-{role}", "families": [family], "seed": 3, "max_attempts": 1,
            "call_timeout_s": 10, "players": ["net", "first"] if role == PLAYER else ["random", "first"],
            "authors": ["net"] if role == AUTHOR else ["qa"],
            "referees": ["net"] if role == REFEREE else ["r1", "r2"] if role == META else [],
            "meta_referees": ["net"] if role == META else [],
            **tournament},
        "families": {family: OPTIONS[family]} if family in OPTIONS else {},
        "variants": [net, {"name": "qa", "model": "mock/constant", "text": QA},
                     {"name": "r1", "model": "mock/first"}, {"name": "r2", "model": "mock/first"}],
    }


def _arena_run(tmp_path: Path, data: dict) -> int:
    path = tmp_path / "arena.toml"
    path.write_text(_toml(data))
    return main(["run", str(path), "--run-dir", str(tmp_path / "run"), "--display", "none"])


def _rows(tmp_path: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(tmp_path / "run" / "arena.sqlite")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@pytest.mark.parametrize(("family", "role"), CASES, ids=[f"{f}-{r}" for f, r in CASES])
def test_a_failed_call_in_any_role_fails_the_match_and_a_rerun_finishes_it(tmp_path, family, role, capsys):
    port = _free_port()
    data = _config(family, role, port)

    assert _arena_run(tmp_path, data) == 4  # the server is down: the run reports failed matches
    matches = _rows(tmp_path, "SELECT status, error FROM matches")
    assert len(matches) == 2 and all(status == "failed" and "model call failed" in error
                                     for status, error in matches), matches
    assert _rows(tmp_path, "SELECT COUNT(*) FROM ranked_sets") == [(0,)]  # nothing to rate or export
    assert _rows(tmp_path, "SELECT COUNT(*) FROM ratings") == [(0,)]
    # it was the call in this role that failed (the drill tests what it says)
    assert (role,) in _rows(tmp_path, "SELECT role FROM calls WHERE variant = 'net' AND error IS NOT NULL")
    assert not _rows(tmp_path, "SELECT kind FROM format_failures WHERE kind = 'call-failed'")

    with FaultServer(text="ok", port=port):  # the server is back, at the same address
        assert _arena_run(tmp_path, data) == 0
    assert _rows(tmp_path, "SELECT status, error FROM matches") == [("finished", None)] * 2
    assert _rows(tmp_path, "SELECT COUNT(*) FROM calls WHERE error IS NOT NULL") == [(0,)]
    capsys.readouterr()


@pytest.mark.parametrize("family", list(ROLES))
def test_a_spent_cost_limit_stops_the_run_cleanly_and_a_higher_limit_finishes_it(tmp_path, family, capsys):
    """Every call of `net` costs more than the limit ($1 a token): the second one, mid-match, is refused."""
    with FaultServer(text="ok") as srv:
        data = _config(family, AUTHOR, srv.port, cost_limit_usd=1.0)
        data["tournament"]["players"] = ["net", "first"]
        data["variants"][0].update(price_in=1e6, price_out=1e6)

        assert _arena_run(tmp_path, data) == 3
        assert "cost limit of $1 reached" in capsys.readouterr().err
        # nothing half-committed: no match stored as finished (or failed) from a call the limit refused
        assert _rows(tmp_path, "SELECT status FROM matches") == []
        assert _rows(tmp_path, "SELECT COUNT(*) FROM ranked_sets") == [(0,)]

        data["tournament"]["cost_limit_usd"] = 1e9
        assert _arena_run(tmp_path, data) == 0
    assert _rows(tmp_path, "SELECT status, error FROM matches") == [("finished", None)] * 2
    assert _rows(tmp_path, "SELECT COUNT(*) FROM calls WHERE error IS NOT NULL") == [(0,)]


@pytest.mark.parametrize("kind", ["fatal", "transient"])
@pytest.mark.parametrize("family", ["trivia", "negotiation", "social"])
def test_a_dead_player_fails_the_match_instead_of_drawing_it(tmp_path, family, kind):
    cfg = parse_config({
        "tournament": {"families": [family], "players": ["dead", "first"], "authors": ["qa"], "seed": 1,
                       "max_attempts": 2},
        "families": {family: OPTIONS[family]} if family in OPTIONS else {},
        "variants": [{"name": "dead", "model": "mock/fail", "kind": kind},
                     {"name": "qa", "model": "mock/constant", "text": QA}],
    })
    summary = run(cfg, tmp_path)
    assert summary.failed == 2 and summary.finished == 0 and summary.ratings == []
    assert not summary.complete  # a re-run replays them
