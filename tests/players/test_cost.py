"""Token and cost accounting (arena/engine/pricing.py + the gateway) and the run's cost limit."""
from __future__ import annotations

import pytest

from arena.config import ConfigError, parse_config
from arena.engine.gateway import CallFailed, CostLimitReached, Gateway
from arena.engine.pricing import Price, PriceError, lookup, price_for
from arena.records import Variant
from tests.players.wire import ask, compat, fast_retry, run
from tests.support.fault_server import FaultServer


def test_prices_match_model_families_by_longest_prefix():
    assert lookup("openai/gpt-4o-mini-2024-07-18") == Price(0.15, 0.60)
    assert lookup("openai/gpt-4o-2024-08-06") == Price(2.50, 10.0)
    assert lookup("anthropic/claude-sonnet-4-5-20250929") == Price(3.0, 15.0)
    assert lookup("openai/gpt-4omega") is None  # a prefix must end at a word boundary
    assert lookup("openai-api/vllm/Qwen2.5-7B") is None
    assert price_for(Variant("l", "local/smollm2-135m")) == Price(0, 0)
    assert price_for(Variant("m", "mock/random")) == Price(0, 0)


def test_a_variant_can_set_its_own_price_or_read_a_price_file(tmp_path):
    assert price_for(Variant("v", "openai-api/x/y", options={"price_in": 1, "price_out": 3})) == Price(1.0, 3.0)
    f = tmp_path / "prices.toml"
    f.write_text('["openai-api/together/llama-3-8b"]\ninput = 0.2\noutput = 0.4\n')
    v = Variant("v", "openai-api/together/llama-3-8b-instruct", options={"price_file": str(f)})
    assert price_for(v) == Price(0.2, 0.4)
    with pytest.raises(PriceError, match="price_in"):
        price_for(Variant("v", "openai/gpt-4o", options={"price_in": "cheap"}))
    f.write_text("not toml [")
    with pytest.raises(PriceError, match="not valid TOML"):
        price_for(v)


def test_cost_is_accounted_per_model_per_variant_and_per_role():
    async def go():
        async with FaultServer(text="three word answer") as srv:
            a = compat("a", srv.openai_url, price_in=2.0, price_out=10.0)
            b = compat("b", srv.openai_url, model="openai-api/fault/m2")  # no price known
            gw = Gateway({"a": a, "b": b}, retry=fast_retry())
            c1 = await ask(gw, "a", "one two", seed=1)
            await ask(gw, "a", "one two three four", seed=2, role="referee")
            await ask(gw, "b", "x", seed=3)
            await gw.aclose()
            return c1, gw

    c1, gw = run(go())
    assert c1.cost_usd == pytest.approx((2 * 2.0 + 3 * 10.0) / 1e6)
    player, referee = gw.usage[("a", "player")], gw.usage[("a", "referee")]
    assert (player.calls, player.input_tokens, player.output_tokens) == (1, 2, 3)
    assert (referee.calls, referee.input_tokens) == (1, 4)
    assert referee.cost_usd == pytest.approx((4 * 2.0 + 3 * 10.0) / 1e6)
    assert gw.total_cost_usd == pytest.approx(player.cost_usd + referee.cost_usd)
    stats_b = gw.stats[gw.backend("b").key]
    assert stats_b.cost_usd == 0 and stats_b.priced is False and stats_b.tokens == 4


def test_the_cost_limit_stops_further_calls_once_reached():
    async def go():
        async with FaultServer(text="an expensive answer") as srv:
            v = compat("v", srv.openai_url, price_in=1000.0, price_out=1000.0)
            gw = Gateway({"v": v}, retry=fast_retry(), cost_limit_usd=0.01)
            first = await ask(gw, "v", "a prompt of five words", seed=1)  # 8 tokens * $1000/M = $0.008
            second = await ask(gw, "v", "more", seed=2)  # crosses the limit; already paid for, so returned
            with pytest.raises(CostLimitReached) as info:
                await ask(gw, "v", "and more", seed=3)
            requests = srv.requests
            await gw.aclose()
            return first, second, info.value, requests, gw.total_cost_usd

    first, second, exc, requests, total = run(go())
    assert first.text == second.text == "an expensive answer"
    assert requests == 2 and total >= 0.01
    assert isinstance(exc, CallFailed) and "cost limit of $0.01 reached" in str(exc)


def test_cost_limit_and_cache_are_tournament_keys():
    cfg = parse_config({"tournament": {"players": ["random", "first"], "cost_limit_usd": 2.5}})
    assert cfg.cost_limit_usd == 2.5 and cfg.cache is True
    assert Gateway.from_config(cfg).cost_limit_usd == 2.5
    for bad in (0, -1, "ten", True):
        with pytest.raises(ConfigError, match="cost_limit_usd"):
            parse_config({"tournament": {"players": ["random", "first"], "cost_limit_usd": bad}})
    with pytest.raises(ConfigError, match="cache"):
        parse_config({"tournament": {"players": ["random", "first"], "cache": "no"}})
