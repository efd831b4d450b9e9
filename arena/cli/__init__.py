"""`arena` command line. Each command lives in its own module exposing
`register(subparsers)`; the parser it adds sets `func(args) -> int`.

Bad input of any kind ends as one line on stderr and a non-zero exit.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# One line per command module.
COMMAND_MODULES = [
    "arena.cli.run",
    "arena.cli.ratings",
    "arena.cli.show",
    "arena.cli.export",
    "arena.cli.sandbox",
    "arena.cli.referees",
    "arena.cli.train",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arena", description="Language models play, judge and train each other.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
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
        message, code = describe(exc)
        print(f"arena: {message}", file=sys.stderr)
        return code

