"""`arena dash`: open the dashboard in a folder (default: the current one)."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dash", help="the terminal dashboard: launch, watch, compare and export runs")
    p.add_argument("folder", nargs="?", default=".", help="where runs are looked for and launched (default: .)")
    p.set_defaults(func=cmd_dash)


def cmd_dash(args: argparse.Namespace) -> int:
    from pathlib import Path

    from arena.errors import UserError
    if not Path(args.folder).is_dir():
        raise UserError(f"not a folder: {args.folder}")
    from arena.cli.dash.app import run_app
    return run_app(args.folder)
