"""What the dashboard reads from run directories, as plain data (no widgets): the runs below a
folder, each tournament's status, progress and leader, the matches, one match in full.
Every function opens the store read-only and closes it; they run in worker threads."""
from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from arena.cli.common import printable
from arena.cli.dash.progress import clock, eta_seconds, family_totals, read_live
from arena.engine.store import DB_NAME, LOCK_NAME, Store
from arena.records import ALL_FAMILIES, PLAYER

MAX_DEPTH = 4  # run directories are looked for this deep below the dashboard's folder
CONFIG_NAME = "arena.toml"  # what the dashboard writes into a run directory it launches


def find_runs(root: str | Path) -> list[Path]:
    """Every run directory (one holding a store) below root, root included, nearest first."""
    root = Path(root)
    found = []
    for here, dirs, files in os.walk(root):
        depth = len(Path(here).relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__"))
        if depth >= MAX_DEPTH:
            dirs[:] = []
        if DB_NAME in files:
            found.append(Path(here))
    return found


def is_running(run_dir: str | Path) -> bool:
    """Whether an `arena run` holds the run directory's writer lock (a shared probe, released at once)."""
    path = Path(run_dir) / LOCK_NAME
    if not path.exists():
        return False
    with open(path, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def tournaments(run_dir: str | Path) -> list[dict[str, Any]]:
    """Each tournament of the run: id, status (running, finished, stopped, failed matches),
    done/total, leader, elapsed and ETA while it runs."""
    running = is_running(run_dir)
    live = read_live(run_dir)
    store = Store(run_dir, create=False)
    try:
        out = []
        for t in store.tournaments():
            rows = store.db.execute("SELECT family, started_at, finished_at, status FROM matches "
                                    "WHERE tournament_id=? AND seq >= 0", (t["id"],)).fetchall()
            finished = sum(1 for r in rows if r[3] == "finished")
            failed = sum(1 for r in rows if r[3] == "failed")
            mine = live if live and live.get("tournament_id") == t["id"] else None
            here = bool(mine and running and mine.get("running"))
            status = ("running" if here else "finished" if t["status"] == "finished" and not failed
                      else f"{failed} failed" if failed else "stopped")
            eta = None
            if here:
                history = store.db.execute("SELECT family, started_at, finished_at FROM matches WHERE "
                                           "tournament_id != ? AND status='finished'", (t["id"],)).fetchall()
                eta = eta_seconds([r[:3] for r in rows], family_totals(t["config"]), live["started_at"],
                                  history=history, in_flight=int(live.get("in_flight") or 0))
            out.append({"id": t["id"], "name": t["name"], "status": status, "finished": finished, "failed": failed,
                        "total": t["total"], "leader": _leader(store), "eta": eta, "live": mine if here else None,
                        "counters": mine,
                        "config": t["config"], "run_dir": str(run_dir)})
        return out
    finally:
        store.close()


def _leader(store: Store) -> str:
    rows = [r for r in store.ratings(role=PLAYER, family=ALL_FAMILIES)]
    if not rows:
        return "-"
    best = max(rows, key=lambda r: r.mu - 3 * r.sigma)
    return printable(best.variant)


def runs_table(root: str | Path) -> list[dict[str, Any]]:
    """One row per tournament of every run below root."""
    rows = []
    for run_dir in find_runs(root):
        try:
            for t in tournaments(run_dir):
                rows.append({**t, "where": str(Path(run_dir).resolve().relative_to(Path(root).resolve())) or "."})
        except Exception as exc:  # noqa: BLE001 - one damaged store is one row, not a dead dashboard
            rows.append({"id": "-", "name": "-", "status": f"unreadable: {str(exc)[:60]}", "finished": 0, "failed": 0,
                         "total": 0, "leader": "-", "eta": None, "live": None, "counters": None, "config": {}, "run_dir": str(run_dir),
                         "where": str(run_dir)})
    return rows


def leaderboard(run_dir: str | Path, bootstrap: int = 200) -> list[dict[str, Any]]:
    """Players over all families: TrueSkill and the Bradley-Terry strength with its 95% interval."""
    from arena.engine import bradley_terry as bt
    store = Store(run_dir, create=False)
    try:
        ratings = {r.variant: r for r in store.ratings(role=PLAYER, family=ALL_FAMILIES)}
        strength: dict[str, tuple[float, float, float]] = {}
        try:
            for r in bt.fit(store, role=PLAYER, family=ALL_FAMILIES, bootstrap=bootstrap):
                strength[r.variant] = (r.strength, r.lo, r.hi)
        except Exception:  # noqa: BLE001 - too few matches to fit: TrueSkill alone
            pass
        rows = []
        for name, r in sorted(ratings.items(), key=lambda kv: -(kv[1].mu - 3 * kv[1].sigma)):
            s = strength.get(name)
            rows.append({"variant": printable(name), "mu": r.mu, "sigma": r.sigma, "wins": r.wins, "losses": r.losses,
                         "draws": r.draws, "bt": s})
        return rows
    finally:
        store.close()


def matches(run_dir: str | Path, family: str = "", variant: str = "", outcome: str = "", failed: bool = False,
            limit: int = 500) -> list[dict[str, Any]]:
    """The newest matches first, filtered: family, a variant in the seats, text in the outcome, failed only."""
    sql = "SELECT id, family, seats, status, summary, error, finished_at FROM matches WHERE seq >= 0"
    args: list[Any] = []
    if family:
        sql += " AND family=?"
        args.append(family)
    if failed:
        sql += " AND status='failed'"
    sql += " ORDER BY finished_at DESC"
    store = Store(run_dir, create=False)
    try:
        out = []
        for mid, fam, seats, status, summary, error, fin in store.db.execute(sql, args):
            seats = json.loads(seats)
            text = error or summary or ""
            if variant and variant not in seats:
                continue
            if outcome and outcome.lower() not in text.lower():
                continue
            out.append({"id": mid, "family": fam, "seats": [printable(s) for s in seats], "status": status,
                        "result": printable(text), "finished_at": fin})
            if len(out) >= limit:
                break
        return out
    finally:
        store.close()


def format_failures(run_dir: str | Path, limit: int = 200) -> list[dict[str, Any]]:
    store = Store(run_dir, create=False)
    try:
        return [{"id": r[0], "variant": printable(r[1]), "role": r[2], "kind": r[3], "detail": printable(r[4])}
                for r in store.db.execute("SELECT match_id, variant, role, kind, detail FROM format_failures "
                                          "ORDER BY id DESC LIMIT ?", (limit,))]
    finally:
        store.close()


def match_text(run_dir: str | Path, match_id: str) -> str:
    """One match in full: seats, outcome, every call with every message (system prompts and
    one-shot turns included), format failures, rankings and the family's details (verdicts,
    sandbox runs). Printable text only: model output never reaches the terminal raw."""
    store = Store(run_dir, create=False)
    try:
        m = store.match(match_id)
    finally:
        store.close()
    if m is None:
        return f"no match {match_id}"
    lines = [f"match {m['id']}  family {m['family']}  round {m['round']}  status {m['status']}",
             f"seats: {', '.join(f'{i}: {v}' for i, v in enumerate(m['seats']))}",
             f"result: {m['error'] or m['summary']}"]
    for f in m["format_failures"]:
        lines.append(f"format failure: {f['variant']} (seat {f['seat']}, {f['role']}): {f['kind']} - {f['detail']}")
    for rs in m["ranked_sets"]:
        lines.append(f"\nranking: {rs['role']} / {rs['criterion']}" + (f" by {rs['ranked_by']}" if rs.get("ranked_by") else ""))
        for e in sorted(rs["entries"], key=lambda e: e["rank"]):
            score = f" score {e['score']:.3g}" if isinstance(e.get("score"), (int, float)) else ""
            lines.append(f"  {e['rank'] + 1}. {e['variant']}{score}: {str(e['text'])[:200]!r}")
    details = dict(m.get("details") or {})
    pgn = details.pop("pgn", None)
    if pgn:
        lines += ["", pgn]
    for key, value in details.items():  # verdicts, sandbox runs and whatever else the family keeps
        lines.append(f"\n{key}:")
        lines.append(json.dumps(value, indent=1, default=str)[:4000])
    lines.append(f"\ncalls ({len(m['calls'])}):")
    for i, c in enumerate(m["calls"], 1):
        flags = (", cached" if c["cached"] else "") + (f", {c['retries']} retries" if c["retries"] else "")
        lines.append(f"--- {i}. {c['variant']} as {c['role']} ({c['output_tokens']} tokens, "
                     f"{c['latency_s'] or 0:.2f}s{flags})")
        for msg in c["messages"]:
            lines.append(f"  [{msg.get('role')}] " + str(msg.get("content", "")).replace("\n", "\n    "))
        answer = c["response"] if c["error"] is None else f"ERROR {c['error']}"
        lines.append("  [answer] " + str(answer).replace("\n", "\n    "))
    return printable("\n".join(lines))


def elapsed_text(live: dict[str, Any] | None) -> str:
    return clock(time.time() - live["started_at"]) if live else "-"
