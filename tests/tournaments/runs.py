"""Playing a family through the registry, runner and store, shared by the family tests."""
from __future__ import annotations

from arena.config import parse_config
from arena.engine.runner import run
from arena.engine.store import Store


def check_scripted_run_is_stored_rated_and_resumable(family: str, run_dir) -> None:
    """Two scripted players: both matches finish on the built-in fallback tasks, each has a rated
    outcome in the store, and a re-run plays nothing twice."""
    cfg = parse_config({"tournament": {"families": [family], "players": ["random", "first"], "seed": 2}})
    summary = run(cfg, run_dir)
    assert summary.total == 2 and summary.finished == 2 and summary.failed == 0
    store = Store(run_dir, create=False)
    try:
        matches = list(store.iter_matches())
        assert all(m["status"] == "finished" and m["details"]["fallback"] for m in matches)
        outcomes = [rs for _, _, rs in store.iter_ranked_sets() if rs.role == "player" and rs.criterion == "outcome"]
        assert len(outcomes) == 2
    finally:
        store.close()
    again = run(cfg, run_dir)
    assert again.skipped == 2 and again.finished == 0
