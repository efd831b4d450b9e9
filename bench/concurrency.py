"""Concurrency efficiency: calls through the gateway to a real HTTP model server with 100 ms of
latency, 1,000 in flight at most. Efficiency = ideal time / actual time, where the ideal is
ceil(calls / limit) x latency: what a client with zero cost per call would take.

The server is tests/support/fault_server.py (aiohttp) in its own process; the arena's client is the
official `openai` SDK behind an `openai-api/...` variant, as a user would configure it. For
context the same calls are made by a bare aiohttp client with the same limit: the ceiling this
machine (two cores shared by client and server) allows any Python client.
"""
from __future__ import annotations

import asyncio
import math
import sys
import time

from bench.common import Unavailable, child, emit, figure, unavailable
from bench.model_server import model_server

LATENCY_S = 0.1
LIMIT = 1000
NAME, UNIT, TARGET = "concurrency_efficiency", "ideal/actual", ">= 0.95"
MESSAGES = [{"role": "user", "content": "Say ok."}]


async def _arena(url: str, calls: int) -> float:
    from arena.engine.gateway import Gateway
    from arena.records import SamplingParams, Variant
    variant = Variant("net", "openai-api/bench/model", SamplingParams(max_tokens=8),
                      options={"base_url": url, "max_connections": LIMIT})
    gw = Gateway({"net": variant}, calls_per_model=LIMIT)
    try:
        await gw.ask("net", "player", MESSAGES, match_id="warm-up")  # imports and client set-up
        started = time.perf_counter()
        await asyncio.gather(*(gw.ask("net", "player", MESSAGES, match_id=f"m{i}") for i in range(calls)))
        seconds = time.perf_counter() - started
        stats = next(iter(gw.stats.values()))
        if stats.errors:
            raise SystemExit(f"{stats.errors} calls failed")
        return seconds
    finally:
        await gw.aclose()


async def _bare(url: str, calls: int) -> float:
    import aiohttp
    body = {"model": "model", "messages": MESSAGES, "max_tokens": 8}
    gate = asyncio.Semaphore(LIMIT)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=LIMIT)) as session:
        async def one() -> None:
            async with gate, session.post(url + "/chat/completions", json=body) as resp:
                await resp.json()
        await one()
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(calls)))
        return time.perf_counter() - started


def client_child(kind: str, url: str, calls: int) -> dict:
    cpu = time.process_time()
    seconds = asyncio.run((_arena if kind == "arena" else _bare)(url, calls))
    return {"seconds": seconds, "cpu_s": time.process_time() - cpu}


def run(quick: bool = False) -> list[dict]:
    calls = 2_000 if quick else 10_000
    ideal = math.ceil(calls / LIMIT) * LATENCY_S
    try:
        with model_server(LATENCY_S) as url:
            bare = child("bench.concurrency", "bare", url, str(calls))
            arena = child("bench.concurrency", "arena", url, str(calls))
    except Unavailable as exc:
        return [unavailable(NAME, UNIT, TARGET, str(exc))]
    value, ceiling = ideal / arena["seconds"], ideal / bare["seconds"]
    note = (f"{calls} calls, {LIMIT} in flight, {LATENCY_S * 1000:.0f} ms latency: ideal {ideal:.1f}s, arena "
            f"{arena['seconds']:.2f}s (client CPU {arena['cpu_s'] / calls * 1e3:.2f} ms/call, openai SDK), bare "
            f"aiohttp client {bare['seconds']:.2f}s; reference = the bare client's efficiency (this machine's ceiling)")
    return [figure(NAME, value, UNIT, ceiling, value / ceiling, TARGET, value >= 0.95, note,
                   ratio_meaning="value / reference (share of the machine's ceiling reached)",
                   arena_seconds=arena["seconds"], bare_seconds=bare["seconds"], ideal_seconds=ideal,
                   arena_cpu_ms_per_call=arena["cpu_s"] / calls * 1e3)]


if __name__ == "__main__":
    emit(client_child(sys.argv[1], sys.argv[2], int(sys.argv[3])))
