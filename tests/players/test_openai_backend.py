"""The openai / openai-api backends with the gateway's retry loop, over real HTTP to
the fault server, through the official openai client."""
from __future__ import annotations

import asyncio
import socket

import pytest

from arena.engine.gateway import CallFailed, Gateway
from arena.records import SamplingParams, Variant
from tests.players.wire import ask, compat, fast_retry, run
from tests.support.fault_server import FaultServer


def test_a_call_reaches_the_server_with_the_variants_parameters_and_comes_back():
    async def go():
        async with FaultServer(text="e4 is my move") as srv:
            v = Variant("v", "openai-api/fault/m1", SamplingParams(temperature=0.3, top_p=0.9, max_tokens=12, stop=("\n",)),
                        system="You are terse.", options={"base_url": srv.openai_url})
            gw = Gateway({"v": v}, retry=fast_retry())
            c = await ask(gw, "v", "your move", seed=42)
            await gw.aclose()
            return c, srv.bodies[0]

    c, body = run(go())
    assert c.text == "e4 is my move" and c.finish_reason == "stop" and c.retries == 0
    assert (c.input_tokens, c.output_tokens) == (5, 4)  # the server counts words: "You are terse." + "your move"
    assert body["model"] == "m1" and body["max_tokens"] == 12 and body["seed"] == 42
    assert body["temperature"] == 0.3 and body["top_p"] == 0.9 and body["stop"] == ["\n"]
    assert body["messages"][0] == {"role": "system", "content": "You are terse."}


@pytest.mark.parametrize("faults", [["500", "503"], ["malformed"], ["wrong-schema"], ["drop"],
                                    ["malformed", "drop", "503"]])
def test_transient_failures_are_retried_until_an_answer_comes(faults):
    async def go():
        async with FaultServer(text="ok then", faults=faults) as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, retry=fast_retry())
            c = await ask(gw, "v")
            stats = gw.stats[gw.backend("v").key]
            await gw.aclose()
            return c, stats, srv.requests

    c, stats, requests = run(go())
    assert c.text == "ok then"
    assert c.retries == len(faults) == stats.retries
    assert requests == len(faults) + 1
    assert stats.errors == 0 and stats.calls == 1


def test_a_transient_failure_that_never_ends_gives_up_after_max_attempts():
    async def go():
        async with FaultServer(faults=["500"] * 10) as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, retry=fast_retry(max_attempts=3))
            records = []
            with pytest.raises(CallFailed) as info:
                await gw.ask("v", "player", [{"role": "user", "content": "x"}], match_id="m", record=records)
            await gw.aclose()
            return info.value, srv.requests, records, gw.stats[gw.backend("v").key]

    exc, requests, records, stats = run(go())
    assert requests == 3
    assert "gave up after 3 failed attempts" in str(exc) and "500" in str(exc)
    assert records[0].error and records[0].response is None and stats.errors == 1


@pytest.mark.parametrize("fault, says", [("drop", "connection failed"), ("slow", "timed out")])
def test_a_dropped_connection_and_a_slow_answer_are_told_apart(fault, says):
    async def go():
        async with FaultServer(faults=[fault] * 5, slow_s=3) as srv:
            v = compat("v", srv.openai_url)
            v.options["timeout"] = 0.5
            gw = Gateway({"v": v}, retry=fast_retry(max_attempts=2))
            with pytest.raises(CallFailed) as info:
                await ask(gw, "v")
            await gw.aclose()
            return str(info.value)

    message = run(go())
    assert says in message and ("timed out" in message) == (fault == "slow")


@pytest.mark.parametrize("headers", [{"retry_after": 0.4}, {"retry_after_ms": 400}])
def test_rate_limit_waits_as_long_as_the_server_asks(headers):
    async def go():
        async with FaultServer(faults=["429"], **headers) as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, retry=fast_retry())
            c = await ask(gw, "v")
            stats = gw.stats[gw.backend("v").key]
            await gw.aclose()
            return c, stats, list(srv.arrivals)

    c, stats, arrivals = run(go())
    assert c.text == "ok" and c.retries == 1 and stats.rate_limits == 1
    # The retry did not come back before the server said it could (backoff alone would be < 0.05 s).
    assert arrivals[1] - arrivals[0] >= 0.4


def test_adaptive_limit_shrinks_under_429s_and_grows_back_when_capacity_returns():
    async def go():
        async with FaultServer(latency_s=0.03, max_in_flight=2, retry_after=0.02) as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, calls_per_model=8, retry=fast_retry())
            key = gw.backend("v").key
            seen: list[int] = []

            async def one(i: int) -> None:
                await ask(gw, "v", f"call {i}", seed=i)
                seen.append(gw.stats[key].limit)

            await asyncio.gather(*(one(i) for i in range(60)))
            overloaded = (min(seen), gw.stats[key].rate_limits, srv.max_seen_in_flight)
            srv.max_in_flight = None  # the server recovers
            before = gw.stats[key].limit
            await asyncio.gather(*(one(i) for i in range(1000, 1200)))
            after = gw.stats[key].limit
            stats = gw.stats[key]
            await gw.aclose()
            return overloaded, before, after, stats

    (lowest, rate_limits, server_peak), before, after, stats = run(go())
    assert rate_limits > 0 and lowest <= 2  # halved from 8 down to what the server takes
    assert after > before and after == 8  # grew back to the configured maximum
    assert stats.calls == 260 and stats.errors == 0


def test_a_slow_answer_is_abandoned_at_the_per_call_timeout_and_retried():
    async def go():
        async with FaultServer(text="late but fine", faults=["slow"], slow_s=20) as srv:
            gw = Gateway({"v": compat("v", srv.openai_url, timeout=0.5)}, retry=fast_retry())
            c = await ask(gw, "v")
            await gw.aclose()
            return c, srv.requests

    c, requests = run(go())
    assert c.text == "late but fine" and c.retries == 1 and requests == 2


def test_the_overall_timeout_bounds_a_call_that_keeps_timing_out():
    async def go():
        async with FaultServer(faults=["slow"] * 10, slow_s=20) as srv:
            v = compat("v", srv.openai_url, timeout=0.3, total_timeout=0.8)
            gw = Gateway({"v": v}, retry=fast_retry(max_attempts=10))
            with pytest.raises(CallFailed) as info:
                await ask(gw, "v")
            await gw.aclose()
            return str(info.value), srv.requests

    msg, requests = run(go())
    assert "timed out" in msg and requests < 10


def test_a_retry_after_longer_than_the_overall_timeout_fails_at_once():
    async def go():
        async with FaultServer(faults=["429"], retry_after=60) as srv:
            gw = Gateway({"v": compat("v", srv.openai_url, total_timeout=5)}, retry=fast_retry())
            with pytest.raises(CallFailed) as info:
                await ask(gw, "v")
            await gw.aclose()
            return str(info.value), srv.requests

    msg, requests = run(go())
    assert requests == 1 and "overall timeout" in msg and "Rate limit" in msg


@pytest.mark.parametrize("fault,message", [("401", "Invalid authentication"),
                                           ("400", "max_tokens is too large"),
                                           ("404", "does not exist")])
def test_fatal_errors_fail_fast_with_the_providers_message(fault, message):
    async def go():
        async with FaultServer(faults=[fault] * 5) as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, retry=fast_retry())
            with pytest.raises(CallFailed) as info:
                await ask(gw, "v")
            await gw.aclose()
            return str(info.value), srv.requests

    msg, requests = run(go())
    assert requests == 1  # neither we nor the SDK retried
    assert fault in msg and message in msg


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_fleet_of_servers_shares_the_load_and_routes_around_a_dead_one():
    async def go():
        async with FaultServer(text="a", latency_s=0.02) as a, FaultServer(text="b", latency_s=0.02) as b:
            dead = f"http://127.0.0.1:{_closed_port()}/v1"
            v = Variant("fleet", "openai-api/gpus/m1", SamplingParams(max_tokens=8),
                        options={"base_urls": [a.openai_url, b.openai_url, dead]})
            gw = Gateway({"fleet": v}, calls_per_model=4, retry=fast_retry())
            answers = await asyncio.gather(*(ask(gw, "fleet", seed=i) for i in range(60)))
            limit = gw.stats[gw.backend("fleet").key].max_limit
            await gw.aclose()
            return [c.text for c in answers], a.answered, b.answered, limit

    texts, served_a, served_b, limit = run(go())
    assert len(texts) == 60 and set(texts) == {"a", "b"}
    assert served_a + served_b == 60 and min(served_a, served_b) >= 15  # both carried real load
    assert limit == 12  # calls_per_model per server


def test_openai_api_needs_a_url():
    from arena.config import ConfigError
    from players.registry import check_variant
    with pytest.raises(ConfigError, match="base_url"):
        check_variant(Variant("x", "openai-api/nowhere/m1"))
    with pytest.raises(ConfigError, match="openai-api/<service>/<model>"):
        check_variant(Variant("x", "openai-api/justservice", options={"base_url": "http://localhost:1/v1"}))
    with pytest.raises(ConfigError, match="http"):
        check_variant(Variant("x", "openai-api/s/m", options={"base_urls": ["localhost:8000"]}))


def test_logprobs_are_asked_for_and_come_back_per_token():
    async def go():
        async with FaultServer(text="A is better") as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, retry=fast_retry())
            c = await ask(gw, "v", logprobs=2)
            plain = await ask(gw, "v", "again")
            await gw.aclose()
            return c, plain, list(srv.bodies)

    c, plain, bodies = run(go())
    assert bodies[0]["logprobs"] is True and bodies[0]["top_logprobs"] == 2
    assert "logprobs" not in bodies[1] and plain.top_logprobs is None
    assert c.top_logprobs is not None and len(c.top_logprobs) == 3  # one per token ("A", " is", " better")
    assert all(len(alts) == 2 and all(lp <= 0 for lp in alts.values()) for alts in c.top_logprobs)
    assert "A" in c.top_logprobs[0]


def _constrained_calls(texts, constraint):
    async def go():
        async with FaultServer(text=texts) as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, retry=fast_retry())
            outs = [await ask(gw, "v", f"q{i}", constraint=constraint) for i in range(len(texts))]
            await gw.aclose()
            return outs, list(srv.bodies)
    return run(go())


def test_a_choices_constraint_is_sent_as_structured_outputs_and_the_answer_unwrapped():
    from arena.records import Constraint
    outs, bodies = _constrained_calls(["e4", "Nf3 obviously"], Constraint(choices=("e4", "Nf3")))
    assert bodies[0]["response_format"] == {"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": {
        "type": "object", "properties": {"answer": {"type": "string", "enum": ["e4", "Nf3"]}},
        "required": ["answer"], "additionalProperties": False}}}
    # The server wrapped its reply as {"answer": ...}; the family sees the chosen text itself.
    assert [o.text for o in outs] == ["e4", "Nf3 obviously"] and all(o.constrained for o in outs)


def test_a_schema_constraint_is_sent_strict_and_the_json_comes_back_as_text():
    import json

    from arena.records import Constraint
    schema = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"],
              "additionalProperties": False}
    outs, bodies = _constrained_calls(['{"title": "a queue"}'], Constraint.json_schema(schema))
    sent = bodies[0]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"] == schema
    assert sent["json_schema"]["strict"] is True and sent["json_schema"]["name"] == "answer"
    assert json.loads(outs[0].text) == {"title": "a queue"} and outs[0].constrained


def test_a_reply_that_is_not_the_wrapper_comes_back_raw_for_the_family_to_judge():
    from arena.records import Constraint

    async def go():
        async with FaultServer(text="I pick e4", obey_formats=False) as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, retry=fast_retry())
            out = await ask(gw, "v", constraint=Constraint(choices=("e4", "d4")))
            plain = await ask(gw, "v", "again")
            await gw.aclose()
            return out, plain, list(srv.bodies)

    out, plain, bodies = run(go())
    assert out.text == "I pick e4"
    assert "response_format" not in bodies[1] and not plain.constrained


def test_string_lengths_strict_mode_refuses_are_left_out_of_the_sent_schema():
    from arena.records import Constraint
    schema = {"type": "object", "properties": {"title": {"type": "string", "minLength": 3, "maxLength": 80},
                                               "tags": {"type": "array", "items": {"type": "string", "maxLength": 9},
                                                        "maxItems": 3}},
              "required": ["title", "tags"], "additionalProperties": False}
    _, bodies = _constrained_calls(['{"title": "x", "tags": []}'], Constraint.json_schema(schema))
    assert bodies[0]["response_format"]["json_schema"]["schema"] == {
        "type": "object", "properties": {"title": {"type": "string"},
                                         "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3}},
        "required": ["title", "tags"], "additionalProperties": False}
