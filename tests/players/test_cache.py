"""The response cache (arena/engine/cache.py) as the gateway uses it, against the fault server."""
from __future__ import annotations

import pytest

from arena.config import parse_config
from arena.engine.cache import ResponseCache
from arena.engine.gateway import CallFailed, Gateway
from arena.engine.store import Store
from arena.records import Variant
from tests.players.wire import ask, compat, fast_retry, run
from tests.support.fault_server import FaultServer


def test_an_identical_request_is_answered_from_the_cache_for_free(tmp_path):
    async def go():
        async with FaultServer(text="fresh answer") as srv:
            v = compat("v", srv.openai_url, price_in=1.0, price_out=2.0)
            gw = Gateway({"v": v}, retry=fast_retry(), cache=ResponseCache.for_run(tmp_path))
            first = await ask(gw, "v", "same prompt", seed=5)
            second = await ask(gw, "v", "same prompt", seed=5)
            stats = gw.stats[gw.backend("v").key]
            await gw.aclose()
            return first, second, srv.requests, stats

    first, second, requests, stats = run(go())
    assert requests == 1
    assert second.text == first.text == "fresh answer"
    assert not first.cached and first.cost_usd > 0
    assert second.cached and second.cost_usd == 0
    assert stats.calls == 2 and stats.cached == 1
    assert stats.cost_usd == pytest.approx(first.cost_usd)  # paid once


def test_anything_that_changes_the_answer_misses_the_cache(tmp_path):
    async def go():
        async with FaultServer() as srv:
            gw = Gateway({"v": compat("v", srv.openai_url), "w": compat("w", srv.openai_url, model="openai-api/fault/m2")},
                         retry=fast_retry(), cache=ResponseCache.for_run(tmp_path))
            await ask(gw, "v", "p", seed=1)
            await ask(gw, "v", "p", seed=2)  # another call of the match / another repetition
            await ask(gw, "v", "p", seed=1, role="referee")
            await ask(gw, "v", "q", seed=1)
            await ask(gw, "v", "p", seed=1, max_tokens=3)
            await ask(gw, "w", "p", seed=1)  # another model
            await gw.aclose()
            return srv.requests

    assert run(go()) == 6


def test_errors_are_never_cached(tmp_path):
    async def go():
        async with FaultServer(faults=["400"], text="now it works") as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, retry=fast_retry(), cache=ResponseCache.for_run(tmp_path))
            with pytest.raises(CallFailed):
                await ask(gw, "v", "p")
            c = await ask(gw, "v", "p")
            await gw.aclose()
            return c, srv.requests

    c, requests = run(go())
    assert requests == 2 and c.text == "now it works" and not c.cached


def test_the_cache_survives_a_restart_and_shares_the_store_file(tmp_path):
    async def call(url: str):
        gw = Gateway({"v": compat("v", url)}, retry=fast_retry(), cache=ResponseCache.for_run(tmp_path))
        c = await ask(gw, "v", "resume me", seed=9)
        await gw.aclose()
        return c

    async def go():
        store = Store(tmp_path)  # the run's store on the same sqlite file, open at the same time
        async with FaultServer(text="paid once") as srv:
            first = await call(srv.openai_url)
            second = await call(srv.openai_url)  # a resumed run: new gateway, same run dir
            requests = srv.requests
        tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        store.close()
        return first, second, requests, tables

    first, second, requests, tables = run(go())
    assert requests == 1 and second.cached and second.text == first.text == "paid once"
    assert {"response_cache", "matches", "calls"} <= tables


def test_the_cache_can_be_turned_off(tmp_path):
    async def go():
        async with FaultServer() as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, retry=fast_retry(), cache=None)
            a = await ask(gw, "v", "p")
            b = await ask(gw, "v", "p")
            await gw.aclose()
            return a.cached or b.cached, srv.requests

    assert run(go()) == (False, 2)
    cfg = parse_config({"tournament": {"players": ["random", "first"], "cache": False}})
    assert cfg.cache is False and Gateway.from_config(cfg, tmp_path).cache is None
    assert Gateway.from_config(parse_config({"tournament": {"players": ["random", "first"]}}), tmp_path).cache is not None


def test_scripted_players_are_not_cached(tmp_path):
    async def go():
        cache = ResponseCache.for_run(tmp_path)
        gw = Gateway({"s": Variant("s", "mock/script", options={"script": ["a", "b"]})}, cache=cache)
        texts = [(await ask(gw, "s", "p")).text for _ in range(2)]
        n = cache.count()
        await gw.aclose()
        return texts, n

    assert run(go()) == (["a", "b"], 0)
