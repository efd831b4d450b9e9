"""Group commit (arena/engine/commits.py): the matches that finish together are written in one
transaction, each match still all or nothing, and a commit returns only once its match is stored."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest

from arena.config import parse_config
from arena.engine.commits import GroupCommit
from arena.engine.runner import run
from arena.engine.store import Store
from arena.records import PLAYER, CallRecord, Entry, MatchResult, RankedSet, ScheduledMatch


def _match(i: int) -> tuple[ScheduledMatch, MatchResult, list[CallRecord]]:
    m = ScheduledMatch(f"m{i}", "t", "game", ("a", "b"), 0, 0, i, i)
    rs = RankedSet(PLAYER, [{"role": "user", "content": "play"}], [Entry("a", "x", 0, 1.0, 0), Entry("b", "y", 1, 0.0, 1)])
    calls = [CallRecord(m.match_id, v, PLAYER, [{"role": "user", "content": "play"}], "x") for v in ("a", "b")]
    return m, MatchResult([rs], summary="1-0"), calls


def _stored(run_dir) -> dict[str, int]:
    db = sqlite3.connect(run_dir / "arena.sqlite")  # another connection: sees only what is committed
    try:
        return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("matches", "calls", "ranked_sets")}
    finally:
        db.close()


def test_a_batch_that_fails_while_written_leaves_none_of_its_matches(tmp_path):
    store = Store(tmp_path)
    try:
        batch = [(*_match(i)[:2], _match(i)[2], [], 0.0, None, 1.0) for i in range(3)]
        m, result, calls = batch[2][:3]
        unwritable = [{"type": "move", "at": object()}]  # cannot be encoded: fails after m0 and m1 are written
        with pytest.raises(TypeError):
            store.commit_matches(batch[:2] + [(m, result, calls, unwritable, 0.0, None, 1.0)])
        assert _stored(tmp_path) == {"matches": 0, "calls": 0, "ranked_sets": 0}
        store.commit_matches(batch)  # the store is still usable, and the same matches are written whole
        assert _stored(tmp_path) == {"matches": 3, "calls": 6, "ranked_sets": 3}
    finally:
        store.close()


def test_commits_that_finish_together_share_a_transaction_and_return_once_stored(tmp_path):
    store = Store(tmp_path)
    writes: list[int] = []
    write = store.commit_matches
    store.commit_matches = lambda batch: (writes.append(len(batch)), write(batch))[1]  # a spy: counts, then writes
    commits = GroupCommit(store)

    async def one(i: int) -> dict[str, int]:
        m, result, calls = _match(i)
        await commits.commit(m, result, calls, [], 0.0)
        return _stored(tmp_path)

    async def main():
        return await asyncio.gather(*(one(i) for i in range(5)))

    try:
        seen = asyncio.run(main())
    finally:
        store.close()
    assert writes == [5]  # one transaction for the five
    assert all(s == {"matches": 5, "calls": 10, "ranked_sets": 5} for s in seen)  # stored when each returned


def test_a_failed_group_write_fails_every_match_in_it(tmp_path):
    store = Store(tmp_path)
    commits = GroupCommit(store)

    async def one(i: int, transcript) -> None:
        m, result, calls = _match(i)
        await commits.commit(m, result, calls, transcript, 0.0)

    async def main():
        return await asyncio.gather(one(0, []), one(1, [{"at": object()}]), return_exceptions=True)

    try:
        outcomes = asyncio.run(main())
    finally:
        store.close()
    assert [type(o) for o in outcomes] == [TypeError, TypeError]
    assert _stored(tmp_path)["matches"] == 0


def test_a_tournament_of_instant_players_commits_in_fewer_transactions_than_matches(tmp_path, monkeypatch):
    writes: list[int] = []
    write = Store.commit_matches
    monkeypatch.setattr(Store, "commit_matches", lambda self, batch: (writes.append(len(batch)), write(self, batch))[1])
    cfg = parse_config({"tournament": {"families": ["connect-four"], "players": ["random", "first"], "rounds": 20,
                                       "matches_in_flight": 8}})
    summary = run(cfg, tmp_path)
    assert summary.finished == 40 and sum(writes) == 40
    assert len(writes) <= 40 // 4  # matches in flight finish together and are written together
    assert _stored(tmp_path)["matches"] == 40


def test_a_calls_conversation_is_stored_as_json_writes_it(tmp_path):
    import json

    messages = [{"role": "system", "content": "é ü 😀 \u2028"},
                {"role": "user", "content": "tab\there, quote \" backslash \\ bell \x07 nul \x00 line\nend"}]
    store = Store(tmp_path)
    try:
        m, result, _ = _match(0)
        store.commit_match(m, result, [CallRecord(m.match_id, "a", PLAYER, messages, "ok")], [], 0.0)
        stored = store.db.execute("SELECT messages FROM calls").fetchone()[0]
        assert stored == json.dumps(messages, ensure_ascii=False, separators=(",", ":"))  # as stores before had it
        assert store.match(m.match_id)["calls"][0]["messages"] == messages
    finally:
        store.close()


def test_a_matchs_transcript_and_details_read_back_as_they_were_logged(tmp_path):
    import math

    transcript = [{"type": "move", "ply": 1, "seat": 0, "column": 3},
                  {"type": "offer", "value": float("nan"), "ceiling": float("inf"), "answer": None},
                  {"type": "note", "text": "null é 😀", "big": 2**70, "share": 1e-05}]
    store = Store(tmp_path)
    try:
        m, result, calls = _match(0)
        result.details = {"moves": [3, 4], "scores": [0.5, 0.5], "spread": float("-inf")}
        store.commit_match(m, result, calls, transcript, 0.0)
        got = store.match(m.match_id)
        offer = got["transcript"][1]
        assert got["transcript"][0] == transcript[0] and got["transcript"][2] == transcript[2]
        assert math.isnan(offer["value"]) and offer["ceiling"] == math.inf and offer["answer"] is None
        assert got["details"]["spread"] == -math.inf and got["details"]["moves"] == [3, 4]
    finally:
        store.close()
