"""Drill: a tournament whose programs run on a local multi-node Ray cluster loses a worker node
mid-run. Every match finishes, none is played twice, and the matches, ratings and pairs equal
those of the same tournament played without Ray."""
import threading
import time

import pytest

from arena.config import parse_config
from arena.engine.runner import run
from arena.engine.store import Store
from tests.support.progress import finished_matches
from tests.support.ray_cluster import local_cluster

ray = pytest.importorskip("ray")
ROUNDS = 8


def config(**tournament):
    # predict-output runs every program twice in the sandbox; constant players score differently
    return parse_config({
        "tournament": {"name": "ray-drill", "families": ["predict-output"], "players": ["one", "list"],
                       "rounds": ROUNDS, "seed": 11, "matches_in_flight": 4, **tournament},
        "variants": [{"name": "one", "model": "mock/constant", "text": "1"},
                     {"name": "list", "model": "mock/constant", "text": "[1, 2]"}]})


def played(run_dir):
    store = Store(run_dir, create=False)
    try:
        matches = {m["id"]: (m["status"], m["details"]["program"], m["details"]["predictions"])
                   for m in store.iter_matches()}
        sets = sorted((mid, rs.role, rs.criterion, tuple((e.variant, e.score, e.rank) for e in rs.entries))
                      for mid, _, rs in store.iter_ranked_sets())
        rows = store.db.execute("SELECT id, COUNT(*) FROM matches GROUP BY id HAVING COUNT(*) > 1").fetchall()
    finally:
        store.close()
    return matches, sets, rows


def test_a_worker_node_dies_mid_run_and_every_match_finishes_once_with_the_same_results(tmp_path):
    from referees.sandbox import remote
    home = run(config(), tmp_path / "home")
    assert home.finished == 2 * ROUNDS and home.failed == 0
    killed = threading.Event()
    at_kill: list[int] = []

    # programs run on the two workers only; one of them dies
    with local_cluster({"num_cpus": 1}, {"num_cpus": 1}) as (c, (doomed, _)):
        def kill_when_under_way() -> None:
            deadline = time.monotonic() + 120
            while finished_matches(tmp_path / "away") < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            at_kill.append(finished_matches(tmp_path / "away"))
            c.remove_node(doomed, allow_graceful=False)  # its raylet and workers are killed, runs in flight lost
            killed.set()

        cfg = config(ray=c.address, sandbox="ray")
        assert remote.place(cfg.ray, cfg.sandbox) == "ray"
        killer = threading.Thread(target=kill_when_under_way, daemon=True)
        killer.start()
        away = run(cfg, tmp_path / "away")
        killer.join(30)
    assert killed.is_set() and at_kill[0] < 2 * ROUNDS  # killed while matches were still being played
    assert away.finished == 2 * ROUNDS and away.failed == 0
    home_matches, home_sets, _ = played(tmp_path / "home")
    away_matches, away_sets, duplicates = played(tmp_path / "away")
    assert duplicates == []
    assert away_matches == home_matches and away_sets == home_sets
    rated = lambda summary: sorted((r.variant, r.role, r.family, r.mu, r.sigma) for r in summary.ratings)  # noqa: E731
    assert rated(away) == rated(home) and len({r[3] for r in rated(home)}) > 1


def test_runs_in_flight_on_a_node_that_dies_are_run_again_on_another(tmp_path):
    """Both workers busy with a three-second program when one node is killed: both runs still
    come back with the program's own result (the lost one from the surviving node)."""
    import asyncio

    from referees.sandbox import remote, run_python
    with local_cluster({"num_cpus": 1}, {"num_cpus": 1}) as (c, (doomed, spare)):
        async def two_runs():
            runs = [asyncio.ensure_future(run_python(f"import time\ntime.sleep(3)\nprint({i})", timeout_s=10))
                    for i in range(2)]
            await asyncio.sleep(2)  # both are running now, one on each node (a node has one CPU)
            c.remove_node(doomed, allow_graceful=False)
            return await asyncio.gather(*runs)

        remote.place(c.address, "ray")
        results = asyncio.run(two_runs())
    assert [(r.status, r.stdout) for r in results] == [("ok", "0\n"), ("ok", "1\n")]
    assert {r.node for r in results} == {spare.node_id}  # the lost run was run again on the survivor
