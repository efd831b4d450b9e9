"""What the Ratings and Usage screens show, as plain rows (no widgets): `arena ratings --role R`'s
rows (its own function, so its columns and intervals are the command's) and `arena usage`'s (the
store's own read and the command's totals, so a column added there shows here too)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from arena.cli.common import printable
from arena.engine.store import Store

METHODS = ("trueskill", "bt")
# Columns the Ratings screen formats itself; every other scalar column of the command is shown as is.
RATING_SHOWN = ("variant", "role", "family", "mu", "sigma", "conservative", "strength", "lo", "hi", "elo",
                "matches", "wins", "losses", "draws", "interval")
USAGE_KEYS = ("tournament", "variant", "role")


def rated_families(run_dir: str | Path) -> list[str]:
    store = Store(run_dir, create=False)
    try:
        return sorted({r.family for r in store.ratings()} - {"*"})
    finally:
        store.close()


def ratings(run_dir: str | Path, role: str, family: str = "*", method: str = "trueskill",
            bootstrap: int = 300) -> list[dict[str, Any]]:
    """`arena ratings --role ROLE --family F --method M --format json`'s rows, with `rating` and
    `interval` (95%: TrueSkill's mu ± 1.96 sigma, Bradley-Terry's bootstrap) as text."""
    from arena.cli.ratings import _check_role, _rating_rows
    _check_role(role)
    args = argparse.Namespace(method=method, bootstrap=bootstrap, seed=0, format="json")
    store = Store(run_dir, create=False)
    try:
        rows = _rating_rows(store, args, role, family or "*")
    finally:
        store.close()
    out = []
    for r in rows:
        if method == "bt":
            rating, interval = f"{r['strength']:+.2f}", f"[{r['lo']:+.2f}, {r['hi']:+.2f}]"
        else:
            rating, interval = f"{r['mu']:.2f}±{r['sigma']:.2f}", f"[{r['lo']:.2f}, {r['hi']:.2f}]"
        extra = {k: v for k, v in r.items() if k not in RATING_SHOWN and not isinstance(v, (dict, list, tuple))}
        out.append({"variant": printable(r["variant"]), "rating": rating, "interval": interval,
                    "matches": r.get("matches", 0), "W/L/D": f"{r['wins']}/{r['losses']}/{r['draws']}",
                    **{k: cell(v) for k, v in extra.items()}})
    return out


def usage(run_dir: str | Path, tournament: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any],
                                                                      list[dict[str, Any]]]:
    """`arena usage`'s rows (Store.usage), its total row (arena.cli.usage.totals) and, where the
    store has them, its per-model speeds of streamed calls (Store.speeds: first token, tokens/s)."""
    from arena.cli.usage import totals
    store = Store(run_dir, create=False)
    try:
        rows = store.usage(tournament or None)
        speeds = store.speeds(tournament or None) if hasattr(store, "speeds") else []
    finally:
        store.close()
    return rows, (totals(rows) if rows else {}), speeds


def usage_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The counted columns, in the order the read gives them (a column added to it shows up)."""
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in USAGE_KEYS and k not in cols]
    return cols


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1 else f"{value:.2f}"
    return printable(str(value))

