"""`arena report`: one self-contained HTML file with the run's leaderboard, generations, head to
head, referees, scores, diversity and usage, each with its picture and a small table."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from arena.cli.common import open_store, printable, run_dir_argument
from arena.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write an HTML report of the run (pictures and tables, no network needed)")
    run_dir_argument(p)
    p.add_argument("--tournament", help="only this tournament of the run (default: every tournament in it)")
    p.add_argument("--out", default="report.html", help="the HTML file to write, - for stdout (default: report.html)")
    p.add_argument("--bootstrap", type=int, default=200,
                   help="bootstrap resamples for the rating intervals (default: 200)")
    p.set_defaults(func=cmd_report)


def _check_out(out: str) -> Path:
    """Refuse an output that cannot be written before the work of drawing it."""
    path = Path(out)
    if not out.strip():
        raise UserError("--out is empty (give the HTML file to write)")
    if path.is_dir():
        raise UserError(f"--out {printable(out)} is a directory (give a file name, e.g. {path / 'report.html'})")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise UserError(f"cannot write {printable(out)}: directory {printable(parent)} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(f"cannot write {printable(out)}: permission denied")
    return path


def cmd_report(args: argparse.Namespace) -> int:
    from arena.files import STDOUT, text_output
    from arena.report.page import report
    if args.bootstrap < 1:
        raise UserError("--bootstrap must be >= 1")
    out = args.out if args.out == "-" else _check_out(args.out)
    store = open_store(args.run_dir)
    try:
        if args.tournament is not None:
            known = [t["id"] for t in store.tournaments()]
            if args.tournament not in known:
                raise UserError(f"unknown tournament {printable(args.tournament[:80])!r} in {args.run_dir} "
                                f"(known: {', '.join(known) or 'none'})")
        page = report(store, args.tournament, bootstrap=args.bootstrap, where=f"run {args.run_dir}")
    finally:
        store.close()
    try:
        with text_output(out) as fh:  # atomic for a file; `-` is stdout
            fh.write(page)
    except OSError as exc:
        raise UserError(f"cannot write {printable(args.out)}: {exc.strerror or exc}") from None
    if args.out != STDOUT:
        print(f"wrote {printable(args.out)} ({len(page.encode('utf-8')) // 1024} KiB)")
    return 0
