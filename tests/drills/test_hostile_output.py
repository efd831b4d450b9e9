"""Hostile-output drill: model answers and provider replies built to stall, crash or bloat the engine,
or to take over the user's terminal. Each is bounded, refused or shown as plain text.
"""
from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import pytest
from aiohttp import web

from arena.cli import main
from arena.config import parse_config
from arena.engine.gateway import CallFailed, Gateway
from arena.engine.runner import run
from referees.verdicts import parse_pairwise, parse_ranking
from tournaments.kit.extract import FormatError, json_objects, last_json_object

ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x1b[31m"


# -- parsers -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "Verdict:" + " " * 20_000 + "x",
    "Winner is" + " " * 20_000 + "*" * 5_000,
    "verdict = " + "\t" * 20_000,
    ("Verdict: " + " " * 2_000 + "\n") * 20,
])
def test_the_verdict_parser_is_linear_time_on_walls_of_spaces(text):
    start = time.perf_counter()
    assert parse_pairwise(text) is None
    assert parse_ranking(text, ["A", "B"]) is None
    assert time.perf_counter() - start < 0.5


def test_a_verdict_after_a_long_gap_is_still_read():
    assert parse_pairwise("Verdict:" + " " * 10_000 + "B") == "B"
    assert parse_pairwise("Winner: **  [A]") == "A"


@pytest.mark.parametrize("nested", [
    '{"winner": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"ranking": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "Verdict follows " + '{"verdict": ' + "[" * 30_000 + '"A"' + "]" * 30_000 + "}",
])
def test_deeply_nested_json_in_a_verdict_is_no_verdict_not_a_crash(nested):
    assert parse_pairwise(nested) is None
    assert parse_ranking(nested, ["A", "B"]) is None


def test_deeply_nested_json_in_an_answer_is_a_format_error():
    deep = '{"a": ' + "[" * 25_000 + "]" * 25_000 + "}"
    assert json_objects(deep) == []
    with pytest.raises(FormatError):
        last_json_object(deep)
    with pytest.raises(FormatError):
        last_json_object("```json\n" + "{'a': " + "(" * 20_000 + ")" * 20_000 + "}\n```")


# -- a provider that answers too much, or lies about usage ---------------------------------------------------
class Provider:
    """An OpenAI-compatible server whose answer body a test sets."""

    def __init__(self, body: Any, status: int = 200):
        self.body, self.status, self.requests = body, status, 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        await request.read()
        return web.json_response(self.body, status=self.status)

    async def __aenter__(self) -> "Provider":
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/v1"  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.runner.cleanup()


def _answer(text: str, prompt_tokens: Any = 10, completion_tokens: Any = 10) -> dict[str, Any]:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}}


def _gateway(url: str, max_tokens: int = 256) -> Gateway:
    cfg = parse_config({"tournament": {"players": ["srv", "first"], "max_attempts": 2},
                        "variants": [{"name": "srv", "model": "openai-api/local/m", "base_url": url,
                                      "max_tokens": max_tokens}]})
    gw = Gateway.from_config(cfg)
    gw.retry.base_delay_s = gw.retry.max_delay_s = 0.01
    return gw


async def _ask(gw: Gateway, record: list) -> Any:
    return await gw.ask("srv", "player", [{"role": "user", "content": "Say hi."}], match_id="m1", record=record)


def test_a_huge_answer_is_capped_before_it_is_stored_and_marked_truncated():
    async def go():
        async with Provider(_answer("x" * 20_000_000, completion_tokens=200)) as srv:
            gw = _gateway(srv.url)
            record: list = []
            try:
                c = await _ask(gw, record)
            finally:
                await gw.aclose()
            return c, record
    c, record = asyncio.run(go())
    assert len(c.text) <= 256 * 64 and c.finish_reason == "truncated"
    assert record[0].response == c.text


@pytest.mark.parametrize("usage", [
    {"completion_tokens": 10**12},  # orders of magnitude beyond max_tokens
    {"prompt_tokens": 10**12},  # beyond anything a two-word prompt can be
    {"completion_tokens": -50},
    {"prompt_tokens": 1.5},
    {"completion_tokens": "many"},
])
def test_absurd_usage_figures_are_an_invalid_response_never_accounted(usage):
    async def go():
        async with Provider(_answer("hi", **usage)) as srv:
            gw = _gateway(srv.url)
            record: list = []
            try:
                with pytest.raises(CallFailed) as failed:
                    await _ask(gw, record)
            finally:
                await gw.aclose()
            return gw, record, failed.value, srv.requests
    gw, record, exc, requests = asyncio.run(go())
    assert "usage" in str(exc)
    assert requests == 2  # transient: retried, then failed
    assert gw.total_cost_usd == 0 and all(s.output_tokens == 0 and s.input_tokens == 0 for s in gw.stats.values())
    assert record[0].error and "usage" in record[0].error


# -- markup and terminal escapes from models and providers ---------------------------------------------------
@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """A finished run whose answers and provider errors carry rich markup and terminal escapes."""
    async def serve_and_run(run_dir):
        async with Provider({"error": {"message": f"[/x] bad [bold red]{ESCAPES} request",
                                       "type": "invalid_request_error"}}, status=400) as srv:
            cfg = parse_config({
                "tournament": {"name": "hostile", "families": ["connect-four"],
                               "players": ["[/x]evil", "script", "srv"]},
                "variants": [
                    {"name": "[/x]evil", "model": "mock/random"},
                    {"name": "script", "model": "mock/script", "script": [f"{ESCAPES}[/bold] 1", "2", "3", "4"]},
                    {"name": "srv", "model": "openai-api/local/m", "base_url": srv.url},
                ]})
            from arena.cli.dashboard import RichDisplay
            return await asyncio.to_thread(run, cfg, run_dir, RichDisplay)
    run_dir = tmp_path_factory.mktemp("hostile") / "run"
    summary = asyncio.run(serve_and_run(run_dir))
    return run_dir, summary


def test_markup_and_escapes_neither_crash_the_dashboard_nor_reach_it(hostile_run, capsys):
    run_dir, summary = hostile_run
    assert summary.finished > 0 and summary.failed > 0  # the provider's 400s failed srv's matches
    db = sqlite3.connect(run_dir / "arena.sqlite")
    errors = [e for (e,) in db.execute("SELECT error FROM matches WHERE error IS NOT NULL")]
    db.close()
    assert any("[/x]" in e for e in errors)


def test_arena_show_never_sends_terminal_escapes(hostile_run, capsys):
    run_dir, _ = hostile_run
    db = sqlite3.connect(run_dir / "arena.sqlite")
    ids = [i for (i,) in db.execute("SELECT id FROM matches")]
    db.close()
    seen_escape_text = False
    for mid in ids:
        assert main(["show", mid, "--run-dir", str(run_dir)]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x07" not in out
        assert all(ch in "\n\t" or ch.isprintable() for ch in out)
        seen_escape_text |= "\\x1b[2J" in out
    assert seen_escape_text  # shown as text, not dropped


def test_the_dashboard_renders_hostile_names_and_errors_as_plain_text(hostile_run):
    from rich.console import Console

    from arena.cli.dashboard import RichDisplay
    from arena.engine.runner import RunState
    from arena.records import ScheduledMatch
    state = RunState("hostile-[/x]", 2, 0, live_ratings=True)
    m = ScheduledMatch(match_id="m" * 12, tournament_id="t", family="connect-four", round=0, repetition=0,
                       seats=("[/x]evil", "[bold]"), seq=0, seed=1)
    state.latest.append((m, None, f"provider said [/x] {ESCAPES}"))
    state.stopped = "[/]"
    display = RichDisplay(state, Gateway({}), None)
    console = Console(record=True, width=200, force_terminal=True)
    console.print(display.render())
    text = console.export_text()
    assert "[/x]evil" in text and "provider said [/x]" in text and "hostile-[/x]" in text
    raw = console.export_text(styles=True)
    assert "\x1b[2J" not in raw and "\x1b]0;" not in raw and "\x07" not in raw
