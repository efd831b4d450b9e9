"""Response cache: a completed call is never paid for twice within a run.

Lives in its own table of the run directory's arena.sqlite (own connection, WAL), so
a resumed run replays the calls of an interrupted match from disk instead of asking
the model again. The key is a sha256 over canonical JSON of everything that changes
the answer: backend (provider, endpoint, model), adapter, the full messages, the
sampling parameters, the call seed (which encodes the match and the call's position
in it, so repetitions stay independent samples), the role and the closed choice set.
Only successful completions are stored; errors never are.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from arena.records import Completion

DB_NAME = "arena.sqlite"  # the store's file; the cache keeps to its own table

SCHEMA = """
CREATE TABLE IF NOT EXISTS response_cache (
    key TEXT PRIMARY KEY, text TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
    finish_reason TEXT, latency_s REAL NOT NULL, created_at REAL NOT NULL);
"""
# Added later: what a replayed answer must keep besides its text (whether its format was enforced,
# the log-probabilities a probability verdict is read from). Older caches gain the column.
EXTRA_COLUMN = "ALTER TABLE response_cache ADD COLUMN extra TEXT"


def cache_key(**parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _extra(completion: Completion) -> str | None:
    extra: dict[str, Any] = {}
    if completion.constrained:
        extra["constrained"] = True
    if completion.top_logprobs is not None:
        extra["top_logprobs"] = completion.top_logprobs
    return json.dumps(extra, separators=(",", ":")) if extra else None


class ResponseCache:
    def __init__(self, path: str | Path):
        """`path` is the sqlite file, or a run directory holding arena.sqlite."""
        p = Path(path)
        if p.is_dir():
            p = p / DB_NAME
        p.parent.mkdir(parents=True, exist_ok=True)
        self.path = p
        self.db = sqlite3.connect(p, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        if "extra" not in {r[1] for r in self.db.execute("PRAGMA table_info(response_cache)")}:
            try:
                self.db.execute(EXTRA_COLUMN)
            except sqlite3.OperationalError:  # another connection added it first
                pass
        self.hits = 0
        self.misses = 0
        self.errors = 0

    @classmethod
    def for_run(cls, run_dir: str | Path) -> "ResponseCache":
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        return cls(Path(run_dir) / DB_NAME)

    def get(self, key: str) -> Completion | None:
        try:
            row = self.db.execute(
                "SELECT text, input_tokens, output_tokens, finish_reason, extra FROM response_cache WHERE key=?",
                (key,)).fetchone()
        except sqlite3.Error:  # a cache that cannot be read is a miss, never a failed call
            self.errors += 1
            row = None
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        extra = json.loads(row[4]) if row[4] else {}
        return Completion(text=row[0], input_tokens=row[1], output_tokens=row[2], finish_reason=row[3],
                          cached=True, cost_usd=0.0, constrained=bool(extra.get("constrained")),
                          top_logprobs=extra.get("top_logprobs"))

    def put(self, key: str, completion: Completion) -> None:
        if completion.cached:
            return
        try:
            self.db.execute(
                "INSERT OR REPLACE INTO response_cache (key, text, input_tokens, output_tokens, finish_reason, "
                "latency_s, created_at, extra) VALUES (?,?,?,?,?,?,?,?)",
                (key, completion.text, completion.input_tokens, completion.output_tokens, completion.finish_reason,
                 completion.latency_s, time.time(), _extra(completion)))
        except sqlite3.Error:  # e.g. disk full or locked too long: the answer is still good
            self.errors += 1

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM response_cache").fetchone()[0]

    def close(self) -> None:
        self.db.close()
