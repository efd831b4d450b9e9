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


def _forced_tool_calls(text, constraint):
    async def go():
        async with FaultServer(text=text) as srv:
            gw = Gateway({"c": claude("c", srv.url)}, retry=fast_retry())
            out = await ask(gw, "c", constraint=constraint)
            plain = await ask(gw, "c", "again")
            await gw.aclose()
            return out, plain, list(srv.bodies)
    return run(go())


def test_a_choices_constraint_is_a_forced_tool_and_the_answer_is_unwrapped():
    from arena.records import Constraint
    out, plain, bodies = _forced_tool_calls("Nf3", Constraint(choices=("e4", "Nf3")))
    tool = bodies[0]["tools"][0]
    assert tool["name"] == "answer" and tool["description"]
    assert tool["input_schema"] == {"type": "object", "properties": {"answer": {"type": "string", "enum": ["e4", "Nf3"]}},
                                    "required": ["answer"], "additionalProperties": False}
    assert bodies[0]["tool_choice"] == {"type": "tool", "name": "answer"}
    assert out.text == "Nf3" and out.constrained
    assert "tools" not in bodies[1] and not plain.constrained


def test_a_schema_constraint_comes_back_as_the_tool_inputs_json_text():
    import json

    from arena.records import Constraint
    schema = {"type": "object", "properties": {"title": {"type": "string"}, "n": {"type": "integer"}},
              "required": ["title", "n"], "additionalProperties": False}
    out, _, bodies = _forced_tool_calls('{"title": "a cache", "n": 3}', Constraint.json_schema(schema))
    assert bodies[0]["tools"][0]["input_schema"] == schema
    assert json.loads(out.text) == {"title": "a cache", "n": 3} and out.constrained
