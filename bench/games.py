"""Game throughput against TextArena, on Connect Four (a game both play offline), between
scripted random movers.

(a) behind a model server with 100 ms of latency over HTTP (tests/support/fault_server.py in its own
    process, answering a random legal column): TextArena plays one game at a time through its
    OpenAIAgent; the arena plays a round-robin of many games at once through `openai-api/...`
    variants, store, response cache and ratings included.
(b) the bare loop with instant players: TextArena with scripted movers, which keeps no record;
    the arena with mock/random players, every call, move and result committed to its store.

Plies per second on both sides, measured in the same run, fresh processes each.
"""
from __future__ import annotations

import sys
import tempfile
import time

from bench.common import Unavailable, best, child, emit, figure, unavailable
from bench.model_server import model_server

LATENCY_S = 0.1
IN_FLIGHT = 200  # games at once on the arena side
HTTP_NAME, BARE_NAME = "games_over_http_vs_textarena", "games_bare_loop_vs_textarena"
UNIT = "plies/s"


def arena_child(mode: str, rounds: int, url: str | None) -> dict:
    from arena.config import parse_config
    from arena.engine.runner import run
    if mode == "http":
        variants = [{"name": f"net-{x}", "model": f"openai-api/bench/model-{x}", "base_url": url,
                     "max_connections": IN_FLIGHT, "max_tokens": 8} for x in "ab"]
        tournament = {"matches_in_flight": IN_FLIGHT}
    else:
        variants = [{"name": f"rand-{x}", "model": "mock/random"} for x in "ab"]
        tournament = {}
    cfg = parse_config({"tournament": {"name": f"games-{mode}", "families": ["connect-four"], "rounds": rounds,
                                       "players": [v["name"] for v in variants], **tournament},
                        "variants": variants})
    with tempfile.TemporaryDirectory() as run_dir:
        started = time.perf_counter()
        summary = run(cfg, run_dir)
        seconds = time.perf_counter() - started
        from arena.engine.store import Store
        store = Store(run_dir, create=False)
        plies = store.db.execute("SELECT COUNT(*) FROM calls WHERE error IS NULL").fetchone()[0]
        store.close()
    if summary.finished != 2 * rounds:
        raise SystemExit(f"only {summary.finished} of {2 * rounds} games finished ({summary.failed} failed)")
    return {"plies": plies, "games": summary.finished, "seconds": seconds}


def run(quick: bool = False) -> list[dict]:
    from bench import venv
    try:
        ta_python = venv.ensure("textarena")
    except Unavailable as exc:
        return [unavailable(HTTP_NAME, UNIT, ">= 50x TextArena", f"TextArena: {exc}"),
                unavailable(BARE_NAME, UNIT, ">= 0.5x TextArena", f"TextArena: {exc}")]
    return [_http(ta_python, quick), _bare(ta_python, quick)]


def _http(ta_python: str, quick: bool) -> dict:
    target = ">= 50x TextArena"
    try:
        with model_server(LATENCY_S, game=True) as url:
            theirs = child("bench.ref_textarena", "http", url, "4" if quick else "12", python=ta_python)
            ours = child("bench.games", "http", "60" if quick else "200", url)
    except Unavailable as exc:
        return unavailable(HTTP_NAME, UNIT, target, str(exc))
    value, reference = ours["plies"] / ours["seconds"], theirs["plies"] / theirs["seconds"]
    ratio = value / reference
    note = (f"{LATENCY_S * 1000:.0f} ms per model call over HTTP; TextArena: {theirs['plies']} plies in "
            f"{theirs['games']} games one at a time; arena: {ours['plies']} plies in {ours['games']} games, "
            f"{IN_FLIGHT} at once")
    return figure(HTTP_NAME, value, UNIT, reference, ratio, target, ratio >= 50, note, reference_engine="TextArena")


def _bare(ta_python: str, quick: bool) -> dict:
    target = ">= 0.5x TextArena"
    rounds, repeats = (100, 2) if quick else (300, 3)
    ours, theirs = [], []
    try:
        for _ in range(repeats):  # interleaved; the best of each side is the least disturbed
            theirs.append(child("bench.ref_textarena", "bare", str(2 * rounds), python=ta_python))
            ours.append(child("bench.games", "bare", str(rounds)))
    except Unavailable as exc:
        return unavailable(BARE_NAME, UNIT, target, str(exc))
    value = best([-r["plies"] / r["seconds"] for r in ours]) * -1
    reference = best([-r["plies"] / r["seconds"] for r in theirs]) * -1
    ratio = value / reference
    note = (f"instant random movers, {2 * rounds} games a side, best of {repeats}; the arena commits every call, "
            f"move and result to SQLite and replays ratings, TextArena keeps no record")
    return figure(BARE_NAME, value, UNIT, reference, ratio, target, ratio >= 0.5, note, reference_engine="TextArena")


if __name__ == "__main__":
    emit(arena_child(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
