"""openai-api variants on the bare aiohttp client (players/openai_wire.py), over real HTTP to the
fault server: streaming, first-token time and rate, the shared connection pool, and the same
answers and error classification as the official SDK's path that openai/ variants keep."""
from __future__ import annotations

import asyncio

import pytest

from arena.engine.gateway import CallFailed, Gateway
from arena.records import Constraint, SamplingParams, Variant
from tests.players.wire import ask, compat, fast_retry, run
from tests.support.fault_server import FaultServer


def test_a_streamed_answer_equals_the_plain_one_and_records_its_first_token_and_rate():
    async def go():
        async with FaultServer(text="one two three four five six", latency_s=0.15, token_s=0.02) as srv:
            gw = Gateway({"s": compat("s", srv.openai_url), "p": compat("p", srv.openai_url, stream=False)},
                         retry=fast_retry())
            records: list = []
            streamed = await ask(gw, "s", logprobs=2, record=records)
            plain = await ask(gw, "p", logprobs=2)
            stats = gw.stats[gw.backend("s").key]
            await gw.aclose()
            return streamed, plain, records[0], list(srv.bodies), stats

    streamed, plain, rec, bodies, stats = run(go())
    assert bodies[0]["stream"] is True and bodies[0]["stream_options"] == {"include_usage": True}
    assert "stream" not in bodies[1]
    for field in ("text", "input_tokens", "output_tokens", "finish_reason", "top_logprobs"):
        assert getattr(streamed, field) == getattr(plain, field), field
    assert streamed.text == "one two three four five six" and streamed.output_tokens == 6
    # The server waited 0.15 s before the first word, then 0.02 s per word.
    assert 0.15 <= streamed.first_token_s < streamed.latency_s
    assert 15 < streamed.tokens_per_s < 60
    assert plain.first_token_s is None and plain.tokens_per_s is None
    assert (rec.first_token_s, rec.tokens_per_s) == (streamed.first_token_s, streamed.tokens_per_s)
    assert stats.streamed == 1 and stats.first_token_s == pytest.approx(streamed.first_token_s)


def test_a_server_that_does_not_stream_is_read_as_a_plain_answer():
    async def go():
        async with FaultServer(text="fine anyway", streams=False) as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, retry=fast_retry())
            c = await ask(gw, "v")
            await gw.aclose()
            return c, srv.bodies[0]

    c, body = run(go())
    assert body["stream"] is True
    assert c.text == "fine anyway" and c.output_tokens == 2 and c.retries == 0 and c.first_token_s is None


def test_a_constrained_streamed_answer_is_unwrapped_like_a_plain_one():
    async def go():
        async with FaultServer(text="Nf3") as srv:
            gw = Gateway({"v": compat("v", srv.openai_url)}, retry=fast_retry())
            c = await ask(gw, "v", constraint=Constraint(choices=("e4", "Nf3")))
            await gw.aclose()
            return c

    c = run(go())
    assert c.text == "Nf3" and c.constrained


def test_text_orjson_refuses_goes_and_comes_back_as_json_writes_and_reads_it():
    """The client encodes and parses JSON with orjson where it can; a prompt with a lone surrogate
    (which orjson will not encode) and an answer carrying one as an escape (which it will not parse)
    take json's way, so the call is made, and the answer stored with U+FFFD, as before."""
    prompt = "lone \udcff surrogate, 中文 and NaN: null"

    async def go():
        async with FaultServer(echo=True) as srv:
            gw = Gateway({"s": compat("s", srv.openai_url), "p": compat("p", srv.openai_url, stream=False)},
                         retry=fast_retry())
            answers = [await ask(gw, name, prompt) for name in ("s", "p")]
            await gw.aclose()
            return answers, [b["messages"][-1]["content"] for b in srv.bodies]

    answers, sent = run(go())
    assert sent == [prompt, prompt]  # the server read the prompt as it was written
    assert [c.text for c in answers] == [prompt.replace("\udcff", "\ufffd")] * 2
    assert all(c.retries == 0 for c in answers)


def test_variants_on_one_server_share_one_connection_pool_until_the_last_closes():
    async def go():
        async with FaultServer(text="hi") as srv:
            gw = Gateway({"a": compat("a", srv.openai_url), "b": compat("b", srv.openai_url, stream=False)},
                         retry=fast_retry())
            await asyncio.gather(ask(gw, "a"), ask(gw, "b"))
            a, b = gw.backend("a"), gw.backend("b")
            shared = a.endpoints[0].client is b.endpoints[0].client
            await a.aclose()
            still = await ask(gw, "b", "again")  # the other variant's pool stays open
            await gw.aclose()
            return shared, still.text, b.endpoints[0].client

    shared, text, after = run(go())
    assert shared and text == "hi" and after is None


def _variant(kind: str, url: str) -> Variant:
    if kind == "sdk":  # openai/ keeps the official SDK; a base_url points it at the fault server
        return Variant("v", "openai/m1", SamplingParams(max_tokens=16),
                       options={"base_url": url, "api_key": "sk-test-not-a-real-key-000"})
    return compat("v", url)


@pytest.mark.parametrize("kind", ["sdk", "wire"])
@pytest.mark.parametrize("faults, outcome", [
    (["429"], "retried"), (["500"], "retried"), (["503"], "retried"),
    (["malformed"], "retried"), (["wrong-schema"], "retried"), (["drop"], "retried"),
    (["400"] * 3, "fatal"), (["401"] * 3, "fatal"), (["404"] * 3, "fatal")])
def test_both_clients_classify_every_fault_the_same_way(kind, faults, outcome):
    async def go():
        async with FaultServer(text="ok then", faults=faults, retry_after=0.05) as srv:
            gw = Gateway({"v": _variant(kind, srv.openai_url)}, retry=fast_retry())
            try:
                c = await ask(gw, "v")
                result = ("retried", c.text, c.retries)
            except CallFailed as exc:
                result = ("fatal", str(exc), srv.requests)
            stats = gw.stats[gw.backend("v").key]
            await gw.aclose()
            return result, stats.rate_limits

    (got, detail, n), rate_limits = run(go())
    assert got == outcome
    if outcome == "retried":
        assert detail == "ok then" and n == 1
        assert rate_limits == (1 if faults == ["429"] else 0)
    else:
        assert n == 1 and faults[0] in detail  # one attempt, the status in the message


def test_a_quota_429_is_fatal_and_a_refused_server_is_a_connection_failure():
    from aiohttp import web

    async def quota(request):
        return web.json_response({"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}},
                                 status=429)

    async def go():
        app = web.Application()
        app.router.add_post("/v1/chat/completions", quota)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        gw = Gateway({"q": compat("q", f"http://127.0.0.1:{port}/v1")}, retry=fast_retry(max_attempts=2))
        with pytest.raises(CallFailed) as quota_exc:
            await ask(gw, "q")
        await runner.cleanup()
        with pytest.raises(CallFailed) as refused:
            await ask(gw, "q", "again")
        await gw.aclose()
        return str(quota_exc.value), str(refused.value)

    quota_msg, refused_msg = run(go())
    assert "429" in quota_msg and "exceeded your current quota" in quota_msg and "gave up" not in quota_msg
    assert "connection failed" in refused_msg and "gave up after 2 failed attempts" in refused_msg


def test_the_key_goes_in_the_auth_header_and_never_into_an_error():
    key = "sk-wire-secret-0123456789abcdef"

    async def go():
        async with FaultServer(api_key="sk-the-right-one-0000000000") as srv:
            v = compat("v", srv.openai_url, api_key=key)
            gw = Gateway({"v": v}, retry=fast_retry())
            with pytest.raises(CallFailed) as info:
                await ask(gw, "v")
            await gw.aclose()
            return str(info.value), srv.headers[0]

    message, headers = run(go())
    assert headers["authorization"] == f"Bearer {key}"
    assert "401" in message and key not in message  # the server echoed it back; it was scrubbed


def test_a_bad_stream_option_is_one_clear_line_before_any_call():
    from arena.config import ConfigError
    from players.registry import check_variant
    with pytest.raises(ConfigError, match="stream must be true or false"):
        check_variant(Variant("x", "openai-api/s/m", options={"stream": "yes", "base_url": "http://localhost:1/v1"}))
    with pytest.raises(ConfigError, match="stream is an openai-api option"):
        check_variant(Variant("x", "openai/gpt-4o-mini", options={"stream": True, "api_key": "sk-test-0000000000000"}))
