"""A store written before usage was stored (version 2) gets it filled from its calls when opened
for writing, and is counted from its calls when only read."""
from __future__ import annotations

import sqlite3

from arena.config import parse_config
from arena.engine.runner import run
from arena.engine.store import VERSION, Store


def _as_version_2(run_dir):
    db = sqlite3.connect(run_dir / "arena.sqlite")
    db.execute("DROP TABLE usage")
    for column in ("first_token_s", "tokens_per_s"):  # added by version 4
        db.execute(f"ALTER TABLE calls DROP COLUMN {column}")
    db.execute("PRAGMA user_version=2")
    db.commit()
    db.close()


def test_an_older_store_gets_its_usage_from_its_calls(tmp_path):
    cfg = parse_config({"tournament": {"families": ["chess"], "players": ["random", "first"], "rounds": 2},
                        "families": {"chess": {"max_plies": 6}}})
    run(cfg, tmp_path)
    s = Store(tmp_path, create=False)
    expected = s.usage()
    s.close()
    assert expected and sum(r["calls"] for r in expected) > 0
    _as_version_2(tmp_path)

    s = Store(tmp_path, create=False)  # read only: not migrated, counted from the calls
    try:
        assert s.usage() == expected
    finally:
        s.close()
    s = Store(tmp_path)  # opened for writing: migrated
    try:
        assert s.db.execute("PRAGMA user_version").fetchone()[0] == VERSION
        assert s.usage() == expected
        assert s.usage(cfg.tournament_id) == expected
        assert s.usage("another") == []
    finally:
        s.close()
