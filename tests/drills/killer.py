"""Runs a tournament and SIGKILLs itself at a chosen point, for the crash drills.

    python -m tests.drills.killer CONFIG RUN_DIR PLAN

PLAN: none | after-commit:N (right after the Nth match of this run is committed) |
mid-commit:N (inside the Nth match's write transaction, rows half written) |
mid-ratings:N (inside the final ratings transaction, after N history rows) |
after-cached:N (right after the Nth answer of this run is written to the response cache: inside a
match, with its other calls in flight).
The hooks only decide *when* the kill happens; the engine code path is the real one.
"""
from __future__ import annotations

import os
import signal
import sys

import arena.engine.runner as runner
from arena.config import load_config
from arena.engine.cache import ResponseCache
from arena.engine.store import Store


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class _KillOnIter(list):
    """The calls list of a match: iterating it (inside the write transaction) kills the process."""

    def __iter__(self):
        _die()
        return super().__iter__()


def arm(plan: str) -> None:
    if plan == "none":
        return
    point, n = plan.split(":")
    n = int(n)
    commits = [0]
    original_commit = Store.commit_match

    if point in ("after-commit", "mid-commit"):
        def commit(self, m, result, calls, *rest, **kw):
            commits[0] += 1
            if point == "mid-commit" and commits[0] == n:
                calls = _KillOnIter(calls)
            original_commit(self, m, result, calls, *rest, **kw)
            if point == "after-commit" and commits[0] == n:
                _die()
        Store.commit_match = commit
    elif point == "mid-ratings":
        original_rows = runner.replay_rows

        def rows(sets, book):
            for i, row in enumerate(original_rows(sets, book)):
                if i == n:
                    _die()
                yield row
        runner.replay_rows = rows
    elif point == "after-cached":
        original_put = ResponseCache.put
        puts = [0]

        def put(self, key, completion):
            original_put(self, key, completion)
            puts[0] += 1
            if puts[0] == n:
                _die()
        ResponseCache.put = put
    else:
        raise SystemExit(f"unknown plan {plan!r}")


if __name__ == "__main__":
    config, run_dir, plan = sys.argv[1:4]
    arm(plan)
    summary = runner.run(load_config(config), run_dir)
    print(f"finished={summary.finished} failed={summary.failed} skipped={summary.skipped}")
