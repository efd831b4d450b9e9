"""The run's cost limit: calls in flight overshoot it by at most one call per model, and the money
spent is stored per tournament, so a re-run does not get the whole budget again."""
from __future__ import annotations

import asyncio

import pytest

from arena.config import parse_config
from arena.engine.gateway import CostLimitReached, Gateway
from arena.engine.runner import run
from tests.players.wire import ask, compat, fast_retry
from tests.support.fault_server import FaultServer


def test_concurrent_calls_overshoot_the_limit_by_at_most_one_call_per_model():
    async def go():
        async with FaultServer(text="an expensive answer", latency_s=0.1) as srv:
            v = compat("v", srv.openai_url, price_in=1000.0, price_out=1000.0)  # ~$0.008 a call
            gw = Gateway({"v": v}, calls_per_model=8, retry=fast_retry(), cost_limit_usd=0.01)
            got = await asyncio.gather(*(ask(gw, "v", "a prompt of five words", seed=i) for i in range(8)),
                                       return_exceptions=True)
            requests = srv.requests
            await gw.aclose()
            return got, requests, gw.total_cost_usd

    got, requests, total = asyncio.run(go())
    paid = [g for g in got if not isinstance(g, BaseException)]
    assert all(isinstance(g, CostLimitReached) for g in got if isinstance(g, BaseException))
    one_call = paid[0].cost_usd
    assert requests == len(paid) <= 2  # was 8: every call in flight passed the check at once
    assert total <= 0.01 + one_call


def _config(url: str, limit: float) -> dict:
    return {"tournament": {"name": "spend", "families": ["chess"], "players": ["paid", "random"], "seed": 3,
                           "cost_limit_usd": limit, "matches_in_flight": 1},
            "families": {"chess": {"max_plies": 6}},
            "variants": [{"name": "paid", "model": "openai-api/fault/m1", "base_url": url, "max_tokens": 8,
                          "price_in": 10.0, "price_out": 10.0}]}


def test_a_rerun_does_not_get_the_whole_budget_again(tmp_path):
    with FaultServer(text="e4") as srv:
        first = run(parse_config(_config(srv.openai_url, 0.003)), tmp_path)
        assert first.stopped and "cost limit" in first.stopped
        spent_before = srv.requests
        again = run(parse_config(_config(srv.openai_url, 0.003)), tmp_path)
        assert again.stopped and "cost limit" in again.stopped
        assert srv.requests == spent_before  # the stored spend already passes the limit: no new call
        more = run(parse_config(_config(srv.openai_url, 0.02)), tmp_path)  # a higher limit goes on
    assert srv.requests > spent_before and not more.stopped and more.finished + more.skipped == 2


def test_the_spend_is_kept_per_tournament(tmp_path):
    with FaultServer(text="e4") as srv:
        run(parse_config(_config(srv.openai_url, 0.003)), tmp_path)
        other = _config(srv.openai_url, 0.003)
        other["tournament"]["seed"] = 4  # another tournament in the same run dir has its own budget
        before = srv.requests
        run(parse_config(other), tmp_path)
    assert srv.requests > before
