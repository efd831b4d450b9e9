"""Writing a file so that a crash never leaves a truncated one under the real name."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(out: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `out` to write; on success it replaces `out`, on any error
    (an interrupt included) it is removed and the error goes on."""
    out = Path(out)
    tmp = out.with_name(out.name + ".part")  # same directory: the rename cannot cross filesystems
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out)
