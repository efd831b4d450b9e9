"""Group commit: the matches that finish together are written in one transaction.

A match's `commit` returns once the transaction holding it has committed, so a match whose commit
returned is stored (synchronous=NORMAL, as every write) and a kill loses only matches whose commit
had not returned, each whole or not at all. The write waits for nothing: it runs at the event
loop's next turn, so it takes the matches that finished meanwhile. With instant players (scripted,
cached) that is every match in flight, one transaction instead of one per match; with real model
calls it is mostly one match, written as soon as it ends.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from arena.engine.store import Finished, Store
from arena.records import CallRecord, MatchResult, ScheduledMatch


class GroupCommit:
    def __init__(self, store: Store):
        self.store = store
        self._batch: list[Finished] = []
        self._waiting: list[asyncio.Future[None]] = []

    async def commit(self, m: ScheduledMatch, result: MatchResult | None, calls: list[CallRecord],
                     transcript: list[dict[str, Any]], started_at: float, error: str | None = None) -> None:
        """Store.commit_match, returning once the match is committed; a failed write raises here."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._batch.append((m, result, calls, transcript, started_at, error, time.time()))
        self._waiting.append(done)
        if len(self._batch) == 1:
            loop.call_soon(self._write)
        await done

    def _write(self) -> None:
        batch, waiting = self._batch, self._waiting
        self._batch, self._waiting = [], []
        try:
            self.store.commit_matches(batch)
        except Exception as exc:  # every match of the batch fails to commit, and says why
            for w in waiting:
                if not w.done():
                    w.set_exception(exc)
            return
        for w in waiting:
            if not w.done():  # a worker cancelled meanwhile: its match is stored all the same
                w.set_result(None)
