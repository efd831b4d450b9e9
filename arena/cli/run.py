"""`arena run`: play a tournament with a live view."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from arena.cli.common import DEFAULT_RUN_DIR


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="play a tournament (default: offline chess round-robin on the embedded model)")
    p.add_argument("config", nargs="?", help="tournament config (TOML); omitted: the offline default")
    p.add_argument("--run-dir", default=DEFAULT_RUN_DIR, help=f"where the store lives (default: {DEFAULT_RUN_DIR})")
    p.add_argument("--display", choices=("rich", "plain", "none"), default=None,
                   help="rich dashboard (default in a terminal), a line per match, or silent")
    p.add_argument("--seed", type=int, help="override the config's seed")
    p.add_argument("--rounds", type=int, help="override the config's rounds")
    p.add_argument("--families", help="override the config's families (comma-separated)")
    p.add_argument("--add-player", action="append", default=[], metavar="VARIANT",
                   help="add a player (declared in the config or built in) to the tournament: only its "
                        "new matches are played (repeatable)")
    p.add_argument("--ray", metavar="ADDRESS",
                   help='use a Ray cluster ("auto": the one `ray start` made here, or host:port): the sandbox '
                        "runs on its workers (see docs/scaling.md)")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from arena.cli.dashboard import default_display, view
    from arena.config import ConfigError, load_config
    from arena.engine.runner import run
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
    for name in args.add_player:
        if name not in cfg.variants:
            raise ConfigError(f"--add-player: unknown variant {name!r} (declare it as [[variants]] in the config "
                              f"or use one of: {', '.join(sorted(cfg.variants))})")
        if name not in cfg.players:
            cfg.players += (name,)
    display = args.display or default_display()
    from referees.sandbox import allow_weak_sandbox
    allow_weak_sandbox(cfg.allow_weak_sandbox)  # the sandbox refuses model code at weak levels otherwise
    if args.ray:
        cfg.ray = args.ray
    from referees.sandbox.remote import place
    place(cfg.ray, cfg.sandbox)  # without a cluster: nothing about Ray is imported
    summary = run(cfg, args.run_dir, view(display, args.run_dir), notify=lambda line: print(f"arena: {line}", file=sys.stderr))
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
