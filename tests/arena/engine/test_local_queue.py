"""Local model calls share one llama.cpp thread: a call's timeout counts its own generation, not the
time it waited behind the others, and the dashboard's counters tell running from queued calls."""
from __future__ import annotations

import asyncio
import time

from arena.engine.gateway import Gateway, RetryPolicy
from arena.records import SamplingParams, Variant
from players.local import default_gguf

ASK = [{"role": "user", "content": "Count from one to twenty in words."}]


def _variant(timeout: float | None = None) -> Variant:
    # The in-process path (one llama.cpp thread); the server path's slots: tests/players/test_llama_server.py
    options = {"server": "off", **({"timeout": timeout} if timeout else {})}
    return Variant("smol", "local/smollm2-135m", SamplingParams(temperature=0.0, max_tokens=8), options=options)


def test_queued_local_calls_time_out_on_their_own_generation_time():
    async def one_generation() -> float:
        gw = Gateway({"smol": _variant()})
        await gw.ask("smol", "player", ASK, match_id="warm-up", seed=1)  # loads the model
        started = time.perf_counter()
        await gw.ask("smol", "player", ASK, match_id="m", seed=2)
        await gw.aclose()
        return time.perf_counter() - started

    single = asyncio.run(one_generation())

    async def four_at_once():
        # The sixth call waits about five generations for the thread; its timeout allows 2.5.
        gw = Gateway({"smol": _variant(timeout=2.5 * single)}, calls_per_model=6,
                     retry=RetryPolicy(max_attempts=1))
        key = "local|" + default_gguf().name + "|-"
        seen: list[tuple[int, int]] = []

        async def watch():
            while True:
                st = gw.stats.get(key)
                if st is not None:
                    queued = getattr(st, "queued", 0)
                    seen.append((st.in_flight - queued, queued))
                await asyncio.sleep(single / 4)

        watcher = asyncio.create_task(watch())
        got = await asyncio.gather(*(gw.ask("smol", "player", ASK, match_id="m", seed=10 + i) for i in range(6)),
                                   return_exceptions=True)
        watcher.cancel()
        await gw.aclose()
        return got, seen

    got, seen = asyncio.run(four_at_once())
    assert [type(g).__name__ for g in got] == ["Completion"] * 6, got
    assert max(running for running, _ in seen) == 1  # one generation at a time on the llama.cpp thread
    assert max(queued for _, queued in seen) >= 2  # the others shown waiting, not running


def test_the_dashboard_shows_running_and_queued_calls_apart():
    from rich.console import Console

    from arena.cli.dashboard import RichDisplay
    from arena.engine.gateway import ModelStats
    from arena.engine.limits import AdaptiveLimit
    from arena.engine.runner import RunState

    gw = Gateway({})
    limiter = AdaptiveLimit(4)
    limiter.in_flight = 4
    gw.stats["local|smollm2.gguf|-"] = ModelStats(limiter, queued=3, waiting=2)
    console = Console(width=200, record=True)
    console.print(RichDisplay(RunState("t", 1, 0), gw, None).render())
    text = console.export_text()
    assert "running/queued/limit" in text and "1/5/4" in text  # one generating; 3 for the thread, 2 for a slot
