"""What the commands share: the run directory flag and opening a run's store for reading."""
from __future__ import annotations

import argparse
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
