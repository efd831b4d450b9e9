"""What the commands share: the run directory flag, opening a run's store for reading, and
making stored text safe to print."""
from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from arena.errors import UserError

DEFAULT_RUN_DIR = "arena-run"


def run_dir_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run-dir", default=DEFAULT_RUN_DIR, help=f"the run's directory (default: {DEFAULT_RUN_DIR})")


def open_store(run_dir: str):
    from arena.engine.store import Store
    if not Path(run_dir).is_dir():
        raise UserError(f"run directory not found: {run_dir}")
    return Store(run_dir, create=False)


# C0/C1 control characters (escape sequences start with ESC or CSI) and the bidi overrides that
# reorder what a terminal shows; newline and tab are kept.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """Model text, provider errors and names as plain characters for a terminal: a control
    character is shown as its escape (\\x1b), never sent."""
    return _UNPRINTABLE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), str(text))


def finite_float(value: str) -> float:
    """argparse type: a number that is not nan or inf."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value[:40]!r}") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {value[:40]!r}")
    return number
