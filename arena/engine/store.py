"""SQLite store (WAL) in the run directory.

A match and everything it produced (calls, ranked sets, format failures) are written
in one transaction, so a kill at any point leaves either the whole match or nothing (matches that
finish together may share that transaction: arena/engine/commits.py).
One writer per run directory (a flock held while the store is open for writing); readers open
it read-only and take no lock. The schema is versioned (PRAGMA user_version) and migrated.
"""
from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any


from arena.engine import usage
from arena.engine.encoding import dumps as _dumps
from arena.engine.encoding import messages_json as _messages
from arena.engine.encoding import plain as _plain
from arena.engine.tables import MIGRATIONS, SCHEMA, VERSION
from arena.errors import UserError
from arena.records import (
    CallRecord,
    FormatFailure,
    MatchResult,
    RankedSet,
    Rating,
    ScheduledMatch,
    ranked_set_from_dict,
)

# A finished match as commit_matches writes it: (match, result or None, calls, transcript,
# started_at, error or None, finished_at).
Finished = tuple[ScheduledMatch, "MatchResult | None", list[CallRecord], list[dict[str, Any]], float, "str | None",
                 float]

DB_NAME = "arena.sqlite"
LOCK_NAME = "arena.lock"
_INSERT_MATCH = ("INSERT {} INTO matches (id, tournament_id, family, seq, round, repetition, seed, seats, status, "
                 "summary, ranks, details, transcript, error, started_at, finished_at) "
                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")


class StoreError(UserError):
    """A store that cannot be opened or read; shown as one line."""


class Store:
    def __init__(self, run_dir: str | Path, create: bool = True):
        """`create=False` opens an existing store for reading only: it needs no write access to the
        run directory (`ratings`, `show` and `export` work on a read-only copy or during a run)."""
        self.run_dir = Path(run_dir)
        path = self.run_dir / DB_NAME
        if not create and not path.is_file():
            raise StoreError(f"no arena run in {self.run_dir} (missing {DB_NAME}); run `arena run --run-dir {self.run_dir}` first")
        if create:
            if self.run_dir.exists() and not self.run_dir.is_dir():
                raise StoreError(f"{self.run_dir} is a file, not a run directory")
            self.run_dir.mkdir(parents=True, exist_ok=True)
        self._lock = _writer_lock(self.run_dir) if create else None
        try:
            if create:
                self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self._migrate(path)
            else:
                self.db = _open_read_only(path)
                self._check_version(path)
        except sqlite3.DatabaseError as exc:
            self._unlock()
            raise StoreError(f"{path}: not a usable arena store ({exc})") from None
        except BaseException:
            self._unlock()
            raise

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file releases the flock
            self._lock = None

    def _check_version(self, path: Path) -> int:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > VERSION:
            raise StoreError(f"{path} was written by a newer arena (store version {version}, this one reads "
                             f"up to {VERSION}); upgrade arena to read it")
        return version

    def _migrate(self, path: Path) -> None:
        version = self._check_version(path)
        if version == VERSION:
            return
        with self._tx():  # statement by statement: executescript would commit the transaction early
            if self.db.execute("SELECT 1 FROM sqlite_master WHERE name='tournaments'").fetchone():
                for v in range(version + 1, VERSION + 1):
                    for sql in MIGRATIONS[v]:
                        self.db.execute(sql)
            for sql in SCHEMA.split(";"):
                if sql.strip():
                    self.db.execute(sql)
            self.db.execute(f"PRAGMA user_version={VERSION}")

    def close(self) -> None:
        self.db.close()
        self._unlock()

    # -- writing ---------------------------------------------------------------------------
    def ensure_tournament(self, tournament_id: str, name: str, config: dict[str, Any], total: int,
                          variants: dict[str, dict[str, Any]], definitions: dict[str, str] | None = None) -> None:
        """`definitions` binds each variant name to what it is (see TournamentConfig.variant_definition):
        a name once bound in this run directory cannot be reused for another model, which would merge
        two models into one rating."""
        definitions = definitions or {}
        with self._tx():
            bound = dict(self.db.execute("SELECT name, definition FROM variants WHERE definition IS NOT NULL"))
            for n in sorted(definitions):
                if bound.get(n, definitions[n]) != definitions[n]:
                    raise StoreError(f"variant {n!r} is defined differently from the {n!r} already rated in "
                                     f"{self.run_dir} (model, sampling, system prompt or options changed); "
                                     f"give the new definition another name or use another --run-dir")
            self.db.execute(
                "INSERT INTO tournaments (id, name, config, created_at, total) VALUES (?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET total=excluded.total, status='running', config=excluded.config",
                (tournament_id, name, _dumps(config), time.time(), total))
            self.db.executemany(
                "INSERT INTO variants (name, description, definition) VALUES (?,?,?) ON CONFLICT(name) DO UPDATE "
                "SET description=excluded.description, definition=COALESCE(excluded.definition, definition)",
                [(n, _dumps(d), definitions.get(n)) for n, d in variants.items()])

    def identities(self, name: str) -> list[tuple[str, dict[str, Any] | None]]:
        """(id, identity) of the stored tournaments named `name`, newest first; None for one stored
        before tournaments had identities."""
        rows = self.db.execute("SELECT id, config FROM tournaments WHERE name=? ORDER BY created_at DESC, id",
                               (name,)).fetchall()
        return [(tid, json.loads(config).get("identity")) for tid, config in rows]

    def renumber(self, tournament_id: str, schedule: list[str]) -> set[str]:
        """Put the tournament's stored matches in the order of its current `schedule` (ids); the
        ones no longer in it get negative numbers. Returns those: they stay stored, but no reader of
        ranked sets (ratings, Bradley-Terry, the report, the export) counts them."""
        position = {mid: i for i, mid in enumerate(schedule)}
        stored = self.db.execute("SELECT id, seq FROM matches WHERE tournament_id=? ORDER BY seq, id",
                                 (tournament_id,)).fetchall()
        stale = [mid for mid, _ in stored if mid not in position]
        position.update((mid, -1 - i) for i, mid in enumerate(stale))
        moved = [(position[mid], mid) for mid, seq in stored if position[mid] != seq]
        if moved:  # only what moved: a re-run of an unchanged tournament writes nothing
            with self._tx():
                self.db.executemany("UPDATE matches SET seq=? WHERE id=?", moved)
        return set(stale)

    def add_usage(self, tournament_id: str, calls: Iterable[CallRecord]) -> None:
        """Count calls of a match that is not committed (stopped at the cost limit): they were made."""
        with self._tx():
            self.db.executemany(usage.ADD, usage.rows(tournament_id, calls))

    def spent(self, tournament_id: str) -> float:
        """US dollars the tournament's calls have cost so far, over all its runs."""
        row = self.db.execute("SELECT spent_usd FROM tournaments WHERE id=?", (tournament_id,)).fetchone()
        return float(row[0]) if row else 0.0

    def add_spend(self, tournament_id: str, usd: float) -> None:
        # Per paid call, not per match: a match stopped at the cost limit is never committed,
        # but its calls were paid for.
        self.db.execute("UPDATE tournaments SET spent_usd = spent_usd + ? WHERE id=?", (usd, tournament_id))

    def set_tournament_status(self, tournament_id: str, status: str) -> None:
        self.db.execute("UPDATE tournaments SET status=? WHERE id=?", (status, tournament_id))

    def commit_match(self, m: ScheduledMatch, result: MatchResult | None, calls: list[CallRecord],
                     transcript: list[dict[str, Any]], started_at: float, error: str | None = None) -> None:
        """Write a finished (or failed) match with everything it produced, atomically."""
        self.commit_matches([(m, result, calls, transcript, started_at, error, time.time())])

    def commit_matches(self, batch: list[Finished]) -> None:
        """Write several finished matches in one transaction (arena/engine/commits.py gathers
        them): all of them or none, so each match stays all or nothing."""
        call_rows: list[tuple[Any, ...]] = []
        set_rows: list[tuple[Any, ...]] = []
        failure_rows: list[tuple[Any, ...]] = []
        spent: dict[str, list[CallRecord]] = {}
        with self._tx():
            for m, result, calls, transcript, started_at, error, finished_at in batch:
                status = "failed" if result is None or error else result.status
                outcome = result.outcome if result else None
                ranks = [e.rank for e in sorted(outcome.entries, key=lambda e: e.seat or 0)] if outcome else None
                row = (m.match_id, m.tournament_id, m.family, m.seq, m.round, m.repetition, m.seed, _plain(m.seats),
                       status, result.summary if result else "", _plain(ranks) if ranks is not None else None,
                       _plain(result.details) if result else None, _plain(transcript), error, started_at, finished_at)
                if self.db.execute(_INSERT_MATCH.format("OR IGNORE"), row).rowcount == 0:
                    # a retried failed match: replace it and everything it produced
                    for table in ("calls", "ranked_sets", "format_failures"):
                        self.db.execute(f"DELETE FROM {table} WHERE match_id=?", (m.match_id,))
                    self.db.execute(_INSERT_MATCH.format("OR REPLACE"), row)
                call_rows += [(c.match_id, c.variant, c.role, _messages(c.messages), c.response, c.input_tokens,
                               c.output_tokens, c.latency_s, int(c.cached), c.retries, c.cost_usd, c.error,
                               int(c.constrained), c.finish_reason, c.first_token_s, c.tokens_per_s) for c in calls]
                if result is not None and not error:
                    set_rows += [(m.match_id, m.family, rs.role, rs.criterion, _dumps(rs)) for rs in result.ranked_sets]
                failures: list[FormatFailure] = result.failures if result else []
                failure_rows += [(m.match_id, f.variant, f.seat, f.role, f.kind, f.detail) for f in failures]
                spent.setdefault(m.tournament_id, []).extend(calls)
            # one statement per table for the whole batch, after the match rows it refers to
            self.db.executemany(
                "INSERT INTO calls (match_id, variant, role, messages, response, input_tokens, output_tokens, "
                "latency_s, cached, retries, cost_usd, error, constrained, finish_reason, first_token_s, tokens_per_s) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", call_rows)
            self.db.executemany(
                "INSERT INTO ranked_sets (match_id, family, role, criterion, body) VALUES (?,?,?,?,?)", set_rows)
            self.db.executemany(
                "INSERT INTO format_failures (match_id, variant, seat, role, kind, detail) VALUES (?,?,?,?,?,?)",
                failure_rows)
            for tournament_id, calls in spent.items():
                self.db.executemany(usage.ADD, usage.rows(tournament_id, calls))

    def replace_ratings(self, ratings: list[Rating] | Callable[[], list[Rating]],
                        history: Iterable[tuple[str, str, str, str, float, float]]) -> None:
        """`history` may be lazy (e.g. ratings.replay_rows reading this store): it is written
        first, then `ratings`, which may be a callable read once the history is consumed."""
        with self._tx():
            self.db.execute("DELETE FROM ratings")
            self.db.execute("DELETE FROM rating_history")
            self.db.executemany(
                "INSERT INTO rating_history (match_id, variant, role, family, mu, sigma) VALUES (?,?,?,?,?,?)", history)
            self.db.executemany(
                "INSERT INTO ratings VALUES (?,?,?,?,?,?,?,?,?)",
                [(r.variant, r.role, r.family, r.mu, r.sigma, r.matches, r.wins, r.losses, r.draws)
                 for r in (ratings() if callable(ratings) else ratings)])

    def _tx(self):
        return _Transaction(self.db)

    # -- reading ---------------------------------------------------------------------------
    def finished_ids(self, tournament_id: str) -> set[str]:
        rows = self.db.execute("SELECT id FROM matches WHERE tournament_id=? AND status='finished'", (tournament_id,))
        return {r[0] for r in rows}

    def tournaments(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT id, name, config, created_at, total, status FROM tournaments ORDER BY created_at")
        return [{"id": r[0], "name": r[1], "config": json.loads(r[2]), "created_at": r[3], "total": r[4],
                 "status": r[5]} for r in rows]

    def variant_names(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT name FROM variants")}

    def iter_matches(self, tournament_id: str | None = None) -> Iterator[dict[str, Any]]:
        sql = ("SELECT m.id FROM matches m JOIN tournaments t ON t.id = m.tournament_id "
               + ("WHERE m.tournament_id=? " if tournament_id else "") + "ORDER BY t.created_at, m.seq")
        ids = [r[0] for r in self.db.execute(sql, (tournament_id,) if tournament_id else ())]
        for mid in ids:
            yield self.match(mid)  # type: ignore[misc]

    def resolve_match_id(self, prefix: str) -> str | None:
        rows = self.db.execute("SELECT id FROM matches WHERE id LIKE ? LIMIT 2", (prefix.replace("%", "") + "%",)).fetchall()
        return rows[0][0] if len(rows) == 1 else None

    def match(self, match_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT id, tournament_id, family, seq, round, repetition, seed, seats, status, summary, ranks, details, "
            "transcript, error, started_at, finished_at FROM matches WHERE id=?", (match_id,)).fetchone()
        if row is None:
            return None
        keys = ("id", "tournament_id", "family", "seq", "round", "repetition", "seed", "seats", "status", "summary",
                "ranks", "details", "transcript", "error", "started_at", "finished_at")
        m = dict(zip(keys, row))
        for k in ("seats", "ranks", "details", "transcript"):
            m[k] = json.loads(m[k]) if m[k] is not None else None
        m["calls"] = [
            {"variant": r[0], "role": r[1], "messages": json.loads(r[2]), "response": r[3], "input_tokens": r[4],
             "output_tokens": r[5], "latency_s": r[6], "cached": bool(r[7]), "retries": r[8], "cost_usd": r[9],
             "error": r[10], "constrained": bool(r[11]), "finish_reason": r[12]}
            for r in self.db.execute(
                "SELECT variant, role, messages, response, input_tokens, output_tokens, latency_s, cached, retries, "
                "cost_usd, error, constrained, finish_reason FROM calls WHERE match_id=? ORDER BY id", (match_id,))]
        m["ranked_sets"] = [json.loads(r[0]) for r in self.db.execute(
            "SELECT body FROM ranked_sets WHERE match_id=? ORDER BY id", (match_id,))]
        m["format_failures"] = [
            {"variant": r[0], "seat": r[1], "role": r[2], "kind": r[3], "detail": r[4]}
            for r in self.db.execute("SELECT variant, seat, role, kind, detail FROM format_failures "
                                     "WHERE match_id=? ORDER BY id", (match_id,))]
        return m

    def iter_ranked_sets(self, role: str | None = None, family: str | None = None
                         ) -> Iterator[tuple[str, str, RankedSet]]:
        """(match_id, family, ranked set) for finished matches of their tournament's current definition
        (Store.renumber numbers the others below 0), in replay order."""
        sql = ("SELECT r.match_id, r.family, r.body FROM ranked_sets r JOIN matches m ON m.id = r.match_id "
               "JOIN tournaments t ON t.id = m.tournament_id WHERE m.status='finished' AND m.seq >= 0")
        args: list[Any] = []
        if role:
            sql += " AND r.role=?"
            args.append(role)
        if family:
            sql += " AND r.family=?"
            args.append(family)
        sql += " ORDER BY t.created_at, m.seq, r.id"
        for mid, fam, body in self.db.execute(sql, args):
            yield mid, fam, ranked_set_from_dict(json.loads(body))

    def ratings(self, role: str | None = None, family: str | None = None) -> list[Rating]:
        sql, args = "SELECT variant, role, family, mu, sigma, matches, wins, losses, draws FROM ratings WHERE 1=1", []
        if role:
            sql += " AND role=?"
            args.append(role)
        if family:
            sql += " AND family=?"
            args.append(family)
        return [Rating(*r) for r in self.db.execute(sql, args)]

    def usage(self, tournament_id: str | None = None) -> list[dict[str, Any]]:
        """Calls, tokens and cost per tournament x variant x role (arena/engine/usage.py)."""
        stored = self.db.execute("PRAGMA user_version").fetchone()[0] >= 3
        return usage.read(self.db, tournament_id, stored)

    def speeds(self, tournament_id: str | None = None) -> list[dict[str, Any]]:
        """First-token time and tokens/s of streamed calls per model (arena/engine/usage.py)."""
        if self.db.execute("PRAGMA user_version").fetchone()[0] < 4:
            return []  # written before calls recorded them
        return usage.speeds(self.db, tournament_id)

    def count(self, status: str | None = None) -> int:
        if status:
            return self.db.execute("SELECT COUNT(*) FROM matches WHERE status=?", (status,)).fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM matches").fetchone()[0]


def _writer_lock(run_dir: Path) -> IO[bytes]:
    """An exclusive flock on the run directory's lock file, held while the store is open for
    writing: two runs writing one store would both play the same unfinished matches. Readers
    take no lock. The kernel drops it when the process dies, even by kill -9."""
    try:
        f = open(run_dir / LOCK_NAME, "ab")
    except OSError as exc:
        raise StoreError(f"{run_dir}: cannot write to the run directory ({exc.strerror})") from None
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise StoreError(f"another `arena run` is writing to {run_dir}; wait for it to finish or use another "
                         f"--run-dir (`arena ratings` and `arena show` can read it meanwhile)") from None
    return f


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A reader's connection. Read-only mode still needs a writable directory for a WAL store's
    shared-memory file; where there is none (a read-only copy), the store is read as immutable."""
    uri = path.resolve().as_uri()
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        db.close()
        if os.access(path.parent, os.W_OK):
            raise
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None, check_same_thread=False)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
