"""`arena ratings` and `arena compare`: the leaderboard and two variants head to head."""
from __future__ import annotations

import argparse
import json
from typing import Any

from arena.cli.common import open_store, printable, run_dir_argument
from arena.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ratings", help="TrueSkill ratings per variant, role and family")
    run_dir_argument(p)
    p.add_argument("--family", help="one family, or * for all families together (default: *)")
    p.add_argument("--role", help="player, author, referee or meta-referee (default: player)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_ratings)

    p = sub.add_parser("compare", help="head-to-head record and win probability of two variants")
    p.add_argument("a")
    p.add_argument("b")
    run_dir_argument(p)
    p.add_argument("--family", default="*")
    p.set_defaults(func=cmd_compare)


def cmd_ratings(args: argparse.Namespace) -> int:
    from arena.records import ROLES
    store = open_store(args.run_dir)
    role = args.role or "player"
    if role not in ROLES:
        raise UserError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    family = args.family or "*"
    ratings = store.ratings(role=role, family=family)
    if not ratings:
        known = sorted({r.family for r in store.ratings()} - {"*"})
        if family != "*" and family not in known:
            raise UserError(f"no ratings for family {family!r} in {args.run_dir} (rated families: {', '.join(known) or 'none'})")
    extra = _extra_columns(store, role)
    rows = []
    for r in sorted(ratings, key=lambda r: -r.conservative):
        d = r.to_dict()
        d.update(extra.get(r.variant, {}))
        rows.append(d)
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no {role} ratings yet in {args.run_dir}")
        return 0
    cols = ["variant", "mu", "sigma", "conservative", "matches", "wins", "losses", "draws"]
    cols += [c for c in rows[0] if c not in cols and c not in ("role", "family")]
    _print_table(rows, cols, title=f"{role} ratings, family {family}")
    return 0


def _extra_columns(store: Any, role: str) -> dict[str, dict[str, Any]]:
    """Columns other modules provide when they are installed: diversity, referee accuracy and bias."""
    extra: dict[str, dict[str, Any]] = {}
    try:
        from arena.training.diversity import variant_diversity
        for v, d in variant_diversity(store).items():
            extra.setdefault(v, {})["diversity"] = round(d, 3) if isinstance(d, float) else d
    except (ImportError, AttributeError):
        pass
    if role == "referee":
        try:
            from referees.report import referee_table
            for row in referee_table(store):
                name = row.get("referee") or row.get("variant")
                extra.setdefault(name, {}).update({k: v for k, v in row.items() if k not in ("referee", "variant", "mu", "sigma")})
        except (ImportError, AttributeError):
            pass
    return extra


def _print_table(rows: list[dict[str, Any]], cols: list[str], title: str) -> None:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.2f}"
        return "-" if v is None else printable(v)  # names from older stores may hold escapes
    widths = {c: max(len(c), *(len(fmt(r.get(c))) for r in rows)) for c in cols}
    print(title)
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(fmt(r.get(c)).ljust(widths[c]) for c in cols))


def cmd_compare(args: argparse.Namespace) -> int:
    from arena.engine.ratings import win_probability
    store = open_store(args.run_dir)
    if args.a == args.b:
        raise UserError(f"compare needs two different variants, got {printable(args.a[:60])!r} twice")
    known = store.variant_names()
    for name in (args.a, args.b):
        if name not in known:
            raise UserError(f"unknown variant {printable(name[:60])!r} in {args.run_dir} (known: {', '.join(sorted(known))})")
    wins = losses = draws = 0
    for _, family, rs in store.iter_ranked_sets(role="player"):
        if rs.criterion != "outcome" or (args.family != "*" and family != args.family):
            continue
        ranks = {e.variant: e.rank for e in rs.entries}
        if args.a in ranks and args.b in ranks:
            if ranks[args.a] < ranks[args.b]:
                wins += 1
            elif ranks[args.a] > ranks[args.b]:
                losses += 1
            else:
                draws += 1
    ra = {r.variant: r for r in store.ratings(role="player", family=args.family)}
    print(f"{args.a} vs {args.b} (family {args.family}): {wins} wins, {losses} losses, {draws} draws")
    if args.a in ra and args.b in ra:
        p = win_probability(ra[args.a], ra[args.b])
        print(f"P({args.a} beats {args.b}) = {p:.3f}   "
              f"[{args.a}: mu {ra[args.a].mu:.2f} sigma {ra[args.a].sigma:.2f}; "
              f"{args.b}: mu {ra[args.b].mu:.2f} sigma {ra[args.b].sigma:.2f}]")
    else:
        print("no ratings for both yet")
    return 0
