"""User-facing errors: every failure a user can cause becomes one line and an exit code."""
from __future__ import annotations

import os
import traceback


class UserError(Exception):
    """Bad input from the user (flags, files, names, configs); shown as one line. Every error a
    user can cause subclasses it, wherever it is raised, so this floor needs to import none of them."""


def describe(exc: BaseException) -> tuple[str, int]:
    """(one-line message, exit code). Unexpected errors still get one line; ARENA_DEBUG=1 shows the traceback."""
    if isinstance(exc, UserError):
        return " ".join(str(exc).split()) or type(exc).__name__, 2
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}", 2
    if os.environ.get("ARENA_DEBUG"):
        traceback.print_exception(exc)
    return f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]} (set ARENA_DEBUG=1 for details)", 1
