"""The anthropic backend over real HTTP to the fault server's messages endpoint,
through the official anthropic client."""
from __future__ import annotations

import pytest

from arena.engine.gateway import CallFailed, Gateway
from arena.records import SamplingParams, Variant
from players.anthropic_backend import split_system
from tests.players.wire import ask, claude, fast_retry, run
from tests.support.fault_server import FaultServer


def test_a_call_speaks_the_messages_format_and_counts_tokens():
    async def go():
        async with FaultServer(text="Nf3 for sure") as srv:
            v = Variant("c", "anthropic/claude-haiku-4-5",
                        SamplingParams(temperature=0.5, max_tokens=20, stop=("END",)), system="Be brief.",
                        options={"base_url": srv.url, "api_key": "sk-ant-test-key-123456"})
            gw = Gateway({"c": v}, retry=fast_retry())
            c = await ask(gw, "c", "your move")
            await gw.aclose()
            return c, srv.bodies[0], srv.headers[0]

    c, body, headers = run(go())
    assert c.text == "Nf3 for sure" and c.finish_reason == "end_turn"
    assert (c.input_tokens, c.output_tokens) == (4, 3)
    assert body["system"] == "Be brief." and body["messages"] == [{"role": "user", "content": "your move"}]
    assert body["max_tokens"] == 20 and body["stop_sequences"] == ["END"] and body["temperature"] == 0.5
    assert body["model"] == "claude-haiku-4-5"
    # The key goes over the wire in an auth header (this SDK version sends a Bearer token).
    sent = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
    assert sent == "sk-ant-test-key-123456"
    assert c.cost_usd == pytest.approx((4 * 1.0 + 3 * 5.0) / 1e6)  # built-in price of claude-haiku-4-5


@pytest.mark.parametrize("faults", [["429"], ["529"], ["500", "drop"], ["malformed"],
                                    ["wrong-schema"]])
def test_rate_limits_overload_and_broken_answers_are_retried(faults):
    async def go():
        async with FaultServer(faults=faults, retry_after=0.05) as srv:
            gw = Gateway({"c": claude("c", srv.url)}, retry=fast_retry())
            c = await ask(gw, "c")
            await gw.aclose()
            return c, srv.requests

    c, requests = run(go())
    assert c.text == "ok" and c.retries == len(faults) and requests == len(faults) + 1


def test_a_bad_key_fails_fast_with_the_providers_message_and_without_the_key():
    async def go():
        async with FaultServer(api_key="the-right-key-000000") as srv:
            gw = Gateway({"c": claude("c", srv.url, api_key="sk-ant-wrong-key-987654321")}, retry=fast_retry())
            with pytest.raises(CallFailed) as info:
                await ask(gw, "c")
            await gw.aclose()
            return str(info.value), srv.requests

    msg, requests = run(go())
    assert requests == 1
    assert "401" in msg and "Incorrect API key provided" in msg  # the server echoed the key back...
    assert "wrong-key" not in msg and "987654321" not in msg  # ...and we scrubbed it


def test_turns_are_made_to_alternate_starting_with_the_user():
    system, turns = split_system([
        {"role": "system", "content": "S"},
        {"role": "assistant", "content": "A0"},
        {"role": "user", "content": "U1"}, {"role": "user", "content": "U2"},
        {"role": "assistant", "content": "A1"},
    ])
    assert system == "S"
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    assert turns[2]["content"] == "U1\n\nU2"
