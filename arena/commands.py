"""The core commands: run, ratings, compare, show, export matches, sandbox."""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from arena.errors import UserError

DEFAULT_RUN_DIR = "arena-run"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="play a tournament (default: offline chess round-robin on the embedded model)")
    p.add_argument("config", nargs="?", help="tournament config (TOML); omitted: the offline default")
    p.add_argument("--run-dir", default=DEFAULT_RUN_DIR, help=f"where the store lives (default: {DEFAULT_RUN_DIR})")
    p.add_argument("--display", choices=("rich", "plain", "none"), default=None,
                   help="rich dashboard (default in a terminal), a line per match, or silent")
    p.add_argument("--seed", type=int, help="override the config's seed")
    p.add_argument("--rounds", type=int, help="override the config's rounds")
    p.add_argument("--families", help="override the config's families (comma-separated)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("ratings", help="TrueSkill ratings per variant, role and family")
    _run_dir(p)
    p.add_argument("--family", help="one family, or * for all families together (default: *)")
    p.add_argument("--role", help="player, author, referee or meta-referee (default: player)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_ratings)

    p = sub.add_parser("compare", help="head-to-head record and win probability of two variants")
    p.add_argument("a")
    p.add_argument("b")
    _run_dir(p)
    p.add_argument("--family", default="*")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("show", help="one match in full: seats, moves, calls, verdicts, outcome")
    p.add_argument("match_id", help="a match id or an unambiguous prefix of one")
    _run_dir(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export", help="export matches (JSONL) or preference pairs")
    what = p.add_subparsers(dest="what", metavar="WHAT")
    pm = what.add_parser("matches", help="one match per line with its transcript")
    _run_dir(pm)
    pm.add_argument("--out", required=True, help="output file (.jsonl)")
    pm.set_defaults(func=cmd_export_matches)
    try:
        importlib.import_module("arena.export_commands").register_export(what)
    except (ImportError, AttributeError):
        pass
    p.set_defaults(func=lambda args: _missing_what(p))

    p = sub.add_parser("sandbox", help="run one Python file in the sandbox and print its verdict as JSON")
    p.add_argument("file")
    p.add_argument("--timeout", type=float, default=10.0, help="wall-clock seconds (default 10)")
    p.add_argument("--memory", type=int, default=256, help="memory limit in MB (default 256)")
    p.set_defaults(func=cmd_sandbox)


def _run_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run-dir", default=DEFAULT_RUN_DIR, help=f"the run's directory (default: {DEFAULT_RUN_DIR})")


def _missing_what(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def _open(run_dir: str):
    from arena.store import Store
    if not Path(run_dir).is_dir():
        raise UserError(f"run directory not found: {run_dir}")
    return Store(run_dir, create=False)


def cmd_run(args: argparse.Namespace) -> int:
    from arena.config import ConfigError, load_config
    from arena.dashboard import default_display
    from arena.runner import run
    cfg = load_config(args.config)
    if args.seed is not None:
        cfg.seed = args.seed
    if args.rounds is not None:
        if args.rounds < 1:
            raise ConfigError("--rounds must be >= 1")
        cfg.rounds = args.rounds
    if args.families is not None:
        cfg.families = tuple(f.strip() for f in args.families.split(",") if f.strip())
        if not cfg.families or len(set(cfg.families)) != len(cfg.families):
            raise ConfigError(f"--families needs distinct family names separated by commas, got {args.families!r}")
    display = args.display or default_display()
    summary = run(cfg, args.run_dir, display)
    if display != "none":
        print_summary(summary)
    if summary.stopped:
        print(f"arena: stopped early: {summary.stopped}", file=sys.stderr)
        return 3
    return 0 if summary.failed == 0 else 4


def print_summary(summary: Any) -> None:
    print(f"\n{summary.finished} matches played, {summary.skipped} already finished, {summary.failed} failed "
          f"(tournament {summary.tournament_id}, run dir {summary.run_dir})")
    rows = [r for r in summary.ratings if r.role == "player" and r.family == "*"]
    for r in sorted(rows, key=lambda r: -r.conservative):
        print(f"  {r.variant:<20} mu {r.mu:6.2f}  sigma {r.sigma:5.2f}  mu-3σ {r.conservative:6.2f}  "
              f"W/L/D {r.wins}/{r.losses}/{r.draws}")
    print(f"see `arena ratings --run-dir {summary.run_dir}` and `arena show MATCH_ID --run-dir {summary.run_dir}`")


def cmd_ratings(args: argparse.Namespace) -> int:
    from arena.records import ROLES
    store = _open(args.run_dir)
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
        from arena.diversity import variant_diversity
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
        return "-" if v is None else str(v)
    widths = {c: max(len(c), *(len(fmt(r.get(c))) for r in rows)) for c in cols}
    print(title)
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(fmt(r.get(c)).ljust(widths[c]) for c in cols))


def cmd_compare(args: argparse.Namespace) -> int:
    from arena.ratings import win_probability
    store = _open(args.run_dir)
    known = store.variant_names()
    for name in (args.a, args.b):
        if name not in known:
            raise UserError(f"unknown variant {name!r} in {args.run_dir} (known: {', '.join(sorted(known))})")
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


def cmd_show(args: argparse.Namespace) -> int:
    store = _open(args.run_dir)
    mid = store.resolve_match_id(args.match_id)
    if mid is None:
        raise UserError(f"no single match with id {args.match_id!r} in {args.run_dir}")
    m = store.match(mid)
    print(f"match {m['id']}  family {m['family']}  round {m['round']}  status {m['status']}")
    print(f"seats: {', '.join(f'{i}: {v}' for i, v in enumerate(m['seats']))}")
    print(f"result: {m['error'] or m['summary']}")
    for f in m["format_failures"]:
        print(f"  format failure: {f['variant']} (seat {f['seat']}, {f['role']}): {f['kind']} - {f['detail']}")
    details = m.get("details") or {}
    if details.get("pgn"):
        print("\n" + details["pgn"])
    print(f"\ncalls ({len(m['calls'])}):")
    for i, c in enumerate(m["calls"], 1):
        prompt = c["messages"][-1]["content"] if c["messages"] else ""
        answer = c["response"] if c["error"] is None else f"ERROR {c['error']}"
        flags = (", cached" if c["cached"] else "") + (f", {c['retries']} retries" if c["retries"] else "")
        print(f"--- {i}. {c['variant']} as {c['role']} ({c['output_tokens']} tokens, "
              f"{c['latency_s'] or 0:.2f}s{flags})")
        print(_indent("> " + prompt.replace("\n", "\n> ")))
        print(_indent(str(answer)))
    for rs in m["ranked_sets"]:
        print(f"\nranking: {rs['role']} / {rs['criterion']}"
              + (f" (agreement {rs['agreement']:.2f})" if rs.get("agreement") is not None else ""))
        for e in sorted(rs["entries"], key=lambda e: e["rank"]):
            score = f" score {e['score']:.3g}" if isinstance(e.get("score"), (int, float)) else ""
            print(f"  {e['rank'] + 1}. {e['variant']}{score}: {str(e['text'])[:100]!r}")
    return 0


def _indent(text: str, n: int = 4) -> str:
    return "\n".join(" " * n + line for line in text.splitlines() or [""])


def cmd_export_matches(args: argparse.Namespace) -> int:
    store = _open(args.run_dir)
    out = Path(args.out)
    if out.parent and not out.parent.exists():
        raise UserError(f"output directory not found: {out.parent}")
    n = 0
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", encoding="utf-8") as fh:
        for m in store.iter_matches():
            fh.write(json.dumps(m, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(out)  # a crash mid-export never leaves a truncated file under the real name
    print(f"wrote {n} matches to {out}")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"file not found: {path}")
    if args.timeout <= 0 or args.memory <= 0:
        raise UserError("--timeout and --memory must be positive")
    try:
        code = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text") from None
    from referees.sandbox import run_python_sync
    result = run_python_sync(code, timeout_s=args.timeout, memory_mb=args.memory)
    print(json.dumps(result.to_dict(), ensure_ascii=False))
    return 0 if result.status == "ok" else 1
