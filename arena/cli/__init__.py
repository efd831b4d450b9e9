"""`arena` command line. Each command lives in its own module exposing
`register(subparsers)`; the parser it adds sets `func(args) -> int`.

Bad input of any kind ends as one line on stderr and a non-zero exit.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import sys
from typing import NoReturn

from arena.errors import UserError

# One line per command module.
COMMAND_MODULES = [
    "arena.cli.run",
    "arena.cli.ratings",
    "arena.cli.show",
    "arena.cli.export",
    "arena.cli.sandbox",
    "arena.cli.referees",
    "arena.cli.train",
    "arena.cli.report",
    "arena.cli.usage",
    "arena.cli.dash.command",
]


class Parser(argparse.ArgumentParser):
    """argparse's error is a usage block and a line; ours is the line (`--help` shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"arena: {' '.join(message.split())[:300]} (see {self.prog} --help)\n")


# Errors of the machine or its files, not of the program: one line, like any bad input.
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG, errno.ENAMETOOLONG,
                      errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ELOOP,
                      errno.ENXIO, errno.ETXTBSY, errno.EMFILE, errno.ENFILE, errno.EPIPE}
STORE_TROUBLE = ("disk is full", "readonly", "read-only", "disk i/o", "unable to open", "is locked",
                 "malformed", "not a database", "out of memory")


def environment_error(exc: BaseException) -> str | None:
    """One line for a full disk, a read-only or damaged store and the like; None for anything else."""
    import sqlite3
    if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or type(exc).__name__}{where}"
    if isinstance(exc, sqlite3.Error) and any(t in str(exc).lower() for t in STORE_TROUBLE):
        return f"the run's store cannot be used: {' '.join(str(exc).split())[:200]}"
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="arena", description="Language models play, judge and train each other.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a bad flag (one line on stderr, from Parser.error) or --help
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "func", None):
        if argv is None and not sys.argv[1:] and sys.stdin.isatty() and sys.stdout.isatty():
            from arena.cli.dash.app import run_app  # `arena` alone in a terminal: the dashboard
            return run_app(".")
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("arena: interrupted; finished matches are kept, re-run the same command to finish", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the one place a user-facing error is turned into a line
        from arena.errors import describe
        env = None if isinstance(exc, UserError) else environment_error(exc)
        message, code = (env, 2) if env else describe(exc)
        print(f"arena: {message}", file=sys.stderr)
        return code

