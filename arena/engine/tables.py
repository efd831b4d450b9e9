"""The store's tables (arena/engine/store.py): the schema a new store is created with, and the
migrations that bring an older store up to it, one version at a time."""
from __future__ import annotations

from arena.engine import usage

# PRAGMA user_version of the store. 0: before versioning. 1: tournaments.spent_usd (the money spent,
# so a re-run does not get the whole budget again), variants.definition (a name bound to its model).
# 2: calls.constrained (a backend enforced the call's format), calls.finish_reason.
# 3: usage (calls, tokens and cost per tournament x variant x role, kept when a failed match's calls
# are replaced by its replay's), filled from the calls already stored.
# 4: calls.first_token_s, calls.tokens_per_s (streamed answers: time to first text, generation rate).
VERSION = 4
MIGRATIONS = {1: ("ALTER TABLE tournaments ADD COLUMN spent_usd REAL NOT NULL DEFAULT 0",
                   "ALTER TABLE variants ADD COLUMN definition TEXT"),
               2: ("ALTER TABLE calls ADD COLUMN constrained INTEGER NOT NULL DEFAULT 0",
                   "ALTER TABLE calls ADD COLUMN finish_reason TEXT"),
               3: usage.MIGRATION,
               4: ("ALTER TABLE calls ADD COLUMN first_token_s REAL", "ALTER TABLE calls ADD COLUMN tokens_per_s REAL")}

SCHEMA = """
CREATE TABLE IF NOT EXISTS tournaments (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL, created_at REAL NOT NULL,
    total INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'running', spent_usd REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS variants (
    name TEXT PRIMARY KEY, description TEXT NOT NULL, definition TEXT);
CREATE TABLE IF NOT EXISTS matches (
    id TEXT PRIMARY KEY, tournament_id TEXT NOT NULL, family TEXT NOT NULL, seq INTEGER NOT NULL,
    round INTEGER NOT NULL, repetition INTEGER NOT NULL, seed INTEGER NOT NULL, seats TEXT NOT NULL,
    status TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '', ranks TEXT, details TEXT, transcript TEXT,
    error TEXT, started_at REAL, finished_at REAL);
CREATE INDEX IF NOT EXISTS matches_by_tournament ON matches (tournament_id, seq);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY, match_id TEXT NOT NULL, variant TEXT NOT NULL, role TEXT NOT NULL,
    messages TEXT NOT NULL, response TEXT, input_tokens INTEGER, output_tokens INTEGER, latency_s REAL,
    cached INTEGER, retries INTEGER, cost_usd REAL, error TEXT, constrained INTEGER NOT NULL DEFAULT 0,
    finish_reason TEXT, first_token_s REAL, tokens_per_s REAL);
CREATE INDEX IF NOT EXISTS calls_by_match ON calls (match_id);
CREATE TABLE IF NOT EXISTS ranked_sets (
    id INTEGER PRIMARY KEY, match_id TEXT NOT NULL, family TEXT NOT NULL, role TEXT NOT NULL,
    criterion TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ranked_sets_by_match ON ranked_sets (match_id);
CREATE TABLE IF NOT EXISTS format_failures (
    id INTEGER PRIMARY KEY, match_id TEXT NOT NULL, variant TEXT NOT NULL, seat INTEGER, role TEXT NOT NULL,
    kind TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS failures_by_match ON format_failures (match_id);
CREATE TABLE IF NOT EXISTS ratings (
    variant TEXT NOT NULL, role TEXT NOT NULL, family TEXT NOT NULL, mu REAL NOT NULL, sigma REAL NOT NULL,
    matches INTEGER NOT NULL, wins INTEGER NOT NULL, losses INTEGER NOT NULL, draws INTEGER NOT NULL,
    PRIMARY KEY (variant, role, family));
CREATE TABLE IF NOT EXISTS rating_history (
    id INTEGER PRIMARY KEY, match_id TEXT NOT NULL, variant TEXT NOT NULL, role TEXT NOT NULL,
    family TEXT NOT NULL, mu REAL NOT NULL, sigma REAL NOT NULL);
""" + usage.TABLE + ";"
