"""Memory of a whole run: the sum over its process tree, so forking does not multiply the limit.

RLIMIT_AS bounds each process; a run of many processes is bounded here. The parent polls the tree
(children links under /proc, which a PID namespace keeps complete: orphans reparent to its PID 1)
and the run is killed once the tree's proportional set size (shared pages split between sharers,
so forked copies are not counted twice) passes the limit. A poll is a few /proc reads per process.
Not seen: memory no process maps (e.g. an unmapped memfd; each file is capped by RLIMIT_FSIZE).
"""
from __future__ import annotations

import os

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tree(root: int) -> list[int]:
    """root and all its descendants, as /proc shows them now."""
    pids, todo = [], [root]
    while todo and len(pids) < 100_000:
        pid = todo.pop()
        pids.append(pid)
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass  # gone meanwhile
    return pids


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) << 10
    except (OSError, ValueError):
        pass
    try:  # not readable (another uid, non-dumpable): resident pages, an upper bound
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def used_bytes(pids: list[int]) -> int:
    return sum(_pss(pid) for pid in pids)
