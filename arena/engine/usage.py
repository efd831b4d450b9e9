"""Stored usage: calls, cached answers, failures, tokens and cost per tournament x variant x role.

Counted when a match is committed (from its call records, in the same transaction) and for the
calls of a match stopped at the cost limit, so a failed match's calls still count after its
replay replaced them in the calls table. Tokens and cost are those of the calls a backend
answered: a cached answer costs nothing (as the gateway counts them, Gateway.usage).
"""
from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Iterable
from typing import Any

from arena.records import CallRecord

KEYS = ("calls", "cached", "errors", "input_tokens", "output_tokens", "cost_usd")

TABLE = ("CREATE TABLE IF NOT EXISTS usage ("
         "tournament_id TEXT NOT NULL, variant TEXT NOT NULL, role TEXT NOT NULL, "
         "calls INTEGER NOT NULL DEFAULT 0, cached INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0, "
         "input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0, "
         "cost_usd REAL NOT NULL DEFAULT 0, PRIMARY KEY (tournament_id, variant, role))")

# The same counts from the calls table: how a store written before usage was stored is filled.
_ANSWERED = "c.error IS NULL AND NOT c.cached"
FROM_CALLS = ("SELECT m.tournament_id AS tournament_id, c.variant AS variant, c.role AS role, "
              "SUM(c.error IS NULL), SUM(c.error IS NULL AND c.cached), SUM(c.error IS NOT NULL), "
              f"TOTAL(CASE WHEN {_ANSWERED} THEN c.input_tokens END), "
              f"TOTAL(CASE WHEN {_ANSWERED} THEN c.output_tokens END), "
              f"TOTAL(CASE WHEN {_ANSWERED} THEN c.cost_usd END) "
              "FROM calls c JOIN matches m ON m.id = c.match_id GROUP BY 1, 2, 3")
MIGRATION = (TABLE, f"INSERT INTO usage {FROM_CALLS}")

ADD = ("INSERT INTO usage (tournament_id, variant, role, " + ", ".join(KEYS) + ") VALUES (?,?,?,?,?,?,?,?,?) "
       "ON CONFLICT(tournament_id, variant, role) DO UPDATE SET " + ", ".join(f"{k} = {k} + excluded.{k}" for k in KEYS))


def rows(tournament_id: str, calls: Iterable[CallRecord]) -> list[tuple[Any, ...]]:
    """Per (variant, role) of `calls`: the row to add to the usage table."""
    out: dict[tuple[str, str], list[Any]] = {}
    for c in calls:
        row = out.setdefault((c.variant, c.role), [0, 0, 0, 0, 0, 0.0])
        if c.error is not None:
            row[2] += 1
            continue
        row[0] += 1
        if c.cached:
            row[1] += 1
            continue
        row[3] += c.input_tokens or 0
        row[4] += c.output_tokens or 0
        row[5] += c.cost_usd or 0.0
    return [(tournament_id, v, r, *row) for (v, r), row in out.items()]


def read(db: sqlite3.Connection, tournament_id: str | None, stored: bool) -> list[dict[str, Any]]:
    """The usage rows, in the order the tournaments ran. `stored` False: a store too old to have
    the table (read without migrating it) is counted from its calls."""
    source = "usage" if stored else f"({FROM_CALLS})"
    sql = (f"SELECT u.* FROM {source} u LEFT JOIN tournaments t ON t.id = u.tournament_id"
           + (" WHERE u.tournament_id=?" if tournament_id else "")
           + " ORDER BY t.created_at, u.tournament_id, u.variant, u.role")
    keys = ("tournament", "variant", "role", *KEYS)
    return [dict(zip(keys, r)) for r in db.execute(sql, (tournament_id,) if tournament_id else ())]


SPEED_KEYS = ("streamed", "first_token_s_median", "first_token_s_mean", "tokens_per_s_median", "tokens_per_s_mean")


def speeds(db: sqlite3.Connection, tournament_id: str | None) -> list[dict[str, Any]]:
    """Per model: how many answered calls were streamed, and the median and mean of their first-token
    time and generation rate (calls.first_token_s / tokens_per_s; None where no call was streamed).
    Read from the calls table: a failed match's calls leave with its replay, as its call records do."""
    sql = ("SELECT COALESCE(json_extract(v.description, '$.model'), c.variant), c.first_token_s, c.tokens_per_s "
           "FROM calls c JOIN matches m ON m.id = c.match_id LEFT JOIN variants v ON v.name = c.variant "
           "WHERE c.error IS NULL AND NOT c.cached AND c.first_token_s IS NOT NULL"
           + (" AND m.tournament_id=?" if tournament_id else ""))
    per: dict[str, tuple[list[float], list[float]]] = {}
    for model, first, rate in db.execute(sql, (tournament_id,) if tournament_id else ()):
        firsts, rates = per.setdefault(model, ([], []))
        firsts.append(first)
        if rate is not None:
            rates.append(rate)
    out = []
    for model in sorted(per):
        firsts, rates = per[model]
        out.append({"model": model, "streamed": len(firsts),
                    "first_token_s_median": statistics.median(firsts), "first_token_s_mean": statistics.fmean(firsts),
                    "tokens_per_s_median": statistics.median(rates) if rates else None,
                    "tokens_per_s_mean": statistics.fmean(rates) if rates else None})
    return out
