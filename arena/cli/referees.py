"""`arena referees`: how good and how biased each referee and meta-referee is."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from arena.errors import UserError

COLUMNS = [("variant", "variant"), ("role", "role"), ("mu", "mu"), ("sigma", "sigma"), ("matches", "matches"),
           ("accuracy", "accuracy"), ("position_bias", "first-seat wins"), ("length_bias", "longer wins"),
           ("self_preference", "self-pref"), ("verdicts", "verdicts"), ("ties", "ties"), ("missing", "missing"),
           ("strict", "strict (95% CI)")]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("referees", help="referee ratings, accuracy against ground truth, position/length/self bias")
    p.add_argument("--run-dir", default="arena-run", help="the run's directory (default: arena-run)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_referees)


def strict_share(s: dict) -> str:
    """'58% (64) [46-69%]': strict accuracy, how many pairs, its Wilson 95% interval."""
    if not s or not s.get("total"):
        return "-"
    low, high = s["ci"]
    return f"{s['accuracy']:.0%} ({s['total']}) [{low:.0%}-{high:.0%}]"


def _cell(row: dict, key: str) -> str:
    v = row.get(key)
    if v is None:
        return "-"
    if key == "strict":
        return strict_share(v)
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
    _table(COLUMNS, [[_cell(r, k) for k, _ in COLUMNS] for r in rows])
    print("first-seat / longer wins: share of decisive verdicts (50% = unbiased); "
          "self-pref: share of its own matches it judged for itself")
    _strict_buckets(rows)
    return 0


def _table(columns: list[tuple[str, str]], cells: list[list[str]]) -> None:
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(columns)]
    print("  ".join(h.ljust(w) for (_, h), w in zip(columns, widths)))
    for c in cells:
        print("  ".join(x.ljust(w) for x, w in zip(c, widths)))


def _strict_buckets(rows: list[dict]) -> None:
    """Strict accuracy per verified quality gap, for every referee and panel scored against the truth."""
    from referees.accuracy import BUCKETS
    scored = [r for r in rows if r.get("strict")]
    if not scored:
        return
    used = [b for b in BUCKETS if any(b in r["strict"]["buckets"] for r in scored)]
    columns = [("variant", "referee / panel"), ("method", "method"), ("all", "all")] + [(b, f"gap {b}") for b in used]
    cells = [[r["variant"], ",".join(r["strict"]["methods"]), strict_share(r["strict"])]
             + [strict_share(r["strict"]["buckets"].get(b, {})) for b in used] for r in scored]
    print()
    print("strict accuracy where the truth is known (JudgeBench-style: right only if both seat orders "
          "prefer the truly better answer; inconsistent, tied or missing = wrong; an order-blind coin gets 50%)")
    _table(columns, cells)
