"""`arena usage`: calls, tokens and cost per tournament, variant and role, as stored by the runs, and
per model the first-token time and generation rate of its streamed calls."""
from __future__ import annotations

import argparse
import json
from typing import Any

from arena.cli.common import open_store, printable, run_dir_argument
from arena.errors import UserError

COLUMNS = ("calls", "cached", "errors", "input_tokens", "output_tokens", "cost_usd")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("usage", help="calls, tokens and cost per tournament, variant and role")
    run_dir_argument(p)
    p.add_argument("--tournament", metavar="ID", help="only this tournament (default: every tournament of the run)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_usage)


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: round(sum(r[k] for r in rows), 6) if k == "cost_usd" else sum(r[k] for r in rows) for k in COLUMNS}


def cmd_usage(args: argparse.Namespace) -> int:
    store = open_store(args.run_dir)
    try:
        known = [t["id"] for t in store.tournaments()]
        if args.tournament is not None and args.tournament not in known:
            raise UserError(f"no tournament {printable(args.tournament)[:80]!r} in {args.run_dir} "
                            f"(known: {', '.join(known) or 'none'})")
        rows = store.usage(args.tournament)
        speeds = store.speeds(args.tournament)
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps({"rows": rows, "total": totals(rows), "speed": speeds}, indent=2))
        return 0
    if not rows:
        print(f"no model calls stored in {args.run_dir}")
        return 0
    head = f"{'tournament':<24} {'variant':<20} {'role':<13}{'calls':>7}{'cached':>8}{'errors':>8}" \
           f"{'in tokens':>11}{'out tokens':>12}{'cost $':>11}"
    print(head)
    for r in rows:
        print(f"{printable(r['tournament'])[:24]:<24} {printable(r['variant'])[:20]:<20} {r['role'][:13]:<13}"
              f"{r['calls']:>7}{r['cached']:>8}{r['errors']:>8}{r['input_tokens']:>11}{r['output_tokens']:>12}"
              f"{r['cost_usd']:>11.4f}")
    t = totals(rows)
    print(f"{'total':<59}{t['calls']:>7}{t['cached']:>8}{t['errors']:>8}{t['input_tokens']:>11}"
          f"{t['output_tokens']:>12}{t['cost_usd']:>11.4f}")
    print("tokens and cost count the calls a backend answered; a cached answer costs nothing")
    if speeds:
        print()
        print(f"{'model':<44}{'streamed':>9}{'first token s (median/mean)':>29}{'tokens/s (median/mean)':>24}")
        for s in speeds:
            rate = "-" if s["tokens_per_s_median"] is None else \
                f"{s['tokens_per_s_median']:.1f} / {s['tokens_per_s_mean']:.1f}"
            print(f"{printable(s['model'])[:44]:<44}{s['streamed']:>9}"
                  f"{s['first_token_s_median']:>15.3f} / {s['first_token_s_mean']:<11.3f}{rate:>24}")
    return 0
