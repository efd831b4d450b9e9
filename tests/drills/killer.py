"""Runs a tournament and SIGKILLs itself at a chosen point, for the crash drills.

    python -m tests.drills.killer CONFIG RUN_DIR PLAN

PLAN: none | after-commit:N (right after the Nth commit of this run returned: its match is stored) |
mid-commit:N (inside the write transaction of the Nth match, rows half written; the matches
finished with it, written in the same transaction, are lost with it) |
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
from arena.engine.commits import GroupCommit
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

    if point == "after-commit":  # the Nth commit to return (its match and any written with it are stored)
        original_commit = GroupCommit.commit

        async def commit(self, *args, **kw):
            await original_commit(self, *args, **kw)
            commits[0] += 1
            if commits[0] == n:
                _die()
        GroupCommit.commit = commit
    elif point == "mid-commit":  # inside the transaction writing the Nth match (with those written with it)
        original_write = Store.commit_matches

        def write(self, batch):
            armed = []
            for m, result, calls, *rest in batch:
                commits[0] += 1
                armed.append((m, result, _KillOnIter(calls) if commits[0] == n else calls, *rest))
            original_write(self, armed)
        Store.commit_matches = write
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
