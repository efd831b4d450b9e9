"""Writing an output file: so that a crash never leaves a truncated one under the real name, and
so that what the name points at (a symlink, a FIFO, a device, `-` for stdout) is written, never
replaced by a regular file."""
from __future__ import annotations

import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from arena.errors import UserError

STDOUT = "-"


def output_path(out: str | Path) -> Path:
    """`out` as a path to write; an empty name is bad input (Path("") would be the current directory)."""
    if not str(out).strip():
        raise UserError("the output file name is empty (give a file name, or - for stdout)")
    return Path(out)


@contextmanager
def atomic_write(out: str | Path) -> Iterator[Path]:
    """Yield a path to write. For a regular (or new) file it is a temporary beside the real one that
    replaces it on success and is removed on any error (an interrupt included), and the error goes
    on. A symlink is followed: its target is replaced, the link stays. A FIFO or a device is written
    in place: replacing it would destroy it (as root, /dev/full)."""
    out = output_path(out)
    if out.is_symlink():
        out = out.resolve()
    try:
        mode = out.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        yield out
        return
    tmp = out.with_name(out.name + ".part")  # same directory: the rename cannot cross filesystems
    tmp.unlink(missing_ok=True)  # a planted symlink under the temporary name is not followed
    try:
        yield tmp
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def text_output(out: str | Path) -> Iterator[IO[str]]:
    """A text file to write `out` through: stdout for `-`, else `atomic_write`."""
    if str(out) == STDOUT:
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_write(out) as path, path.open("w", encoding="utf-8") as fh:
        yield fh
