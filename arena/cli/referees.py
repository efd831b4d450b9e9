"""`arena referees`: how good and how biased each referee and meta-referee is."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from arena.errors import UserError

COLUMNS = [("variant", "variant"), ("role", "role"), ("mu", "mu"), ("sigma", "sigma"), ("matches", "matches"),
           ("accuracy", "accuracy"), ("position_bias", "first-seat wins"), ("length_bias", "longer wins"),
           ("self_preference", "self-pref"), ("verdicts", "verdicts"), ("ties", "ties"), ("missing", "missing")]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("referees", help="referee ratings, accuracy against ground truth, position/length/self bias")
    p.add_argument("--run-dir", default="arena-run", help="the run's directory (default: arena-run)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_referees)


def _cell(row: dict, key: str) -> str:
    v = row.get(key)
    if v is None:
        return "-"
    if key in ("position_bias", "length_bias", "self_preference", "accuracy"):
        n = {"accuracy": row.get("accuracy_n"), "self_preference": row.get("self_n")}.get(key)
        return f"{v:.0%}" + (f" ({n})" if n else "")
    if key == "missing" and row.get("verdicts"):
        return f"{v} ({v / row['verdicts']:.0%})"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def cmd_referees(args: argparse.Namespace) -> int:
    from arena.engine.store import Store
    from arena.records import META_REFEREE, REFEREE
    from referees.report import referee_table
    if not Path(args.run_dir).is_dir():
        raise UserError(f"run directory not found: {args.run_dir}")
    store = Store(args.run_dir, create=False)
    try:
        rows = referee_table(store, roles=(REFEREE, META_REFEREE))
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no referee verdicts yet in {args.run_dir} (families judged by referees: trivia, negotiation, "
              "social, ...)")
        return 0
    cells = [[_cell(r, k) for k, _ in COLUMNS] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(COLUMNS)]
    print("  ".join(h.ljust(w) for (_, h), w in zip(COLUMNS, widths)))
    for c in cells:
        print("  ".join(x.ljust(w) for x, w in zip(c, widths)))
    print("first-seat / longer wins: share of decisive verdicts (50% = unbiased); "
          "self-pref: share of its own matches it judged for itself")
    return 0
