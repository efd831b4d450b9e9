"""Concurrency efficiency: calls through the gateway to a real HTTP model server with 100 ms of
latency, 1,000 in flight at most. Efficiency = ideal time / actual time, where the ideal is
ceil(calls / limit) x latency: what a client with zero cost per call would take.

The server is tests/support/fault_server.py (aiohttp) in its own process; the arena's client is an
`openai-api/...` variant as a user would configure it (players/openai_wire.py, through the gateway:
limits, retries, timeouts, accounting). The reference is a bare aiohttp client making the same calls
with the same limit on the same server in the same run: the ceiling this machine (two cores shared
by client and server) allows a Python client. The two sides alternate, REPEATS times, and each
side's best run counts (the least disturbed on a shared machine).
"""
from __future__ import annotations

import asyncio
import math
import sys
import time

from bench.common import Unavailable, best, child, emit, figure, unavailable
from bench.model_server import model_server

LATENCY_S = 0.1
LIMIT = 1000
REPEATS = 3
# The target: at least 0.9 of the bare client's efficiency (value / reference).
NAME, UNIT, TARGET = "concurrency_efficiency", "ideal/actual", ">= 0.9 of the bare aiohttp client's"
MESSAGES = [{"role": "user", "content": "Say ok."}]
# The bare client posts and reads one JSON body; the arena does the same work (a streamed answer is
# several events to parse: other work).
STREAM = False


async def _arena(url: str, calls: int) -> tuple[float, float]:
    from arena.engine.gateway import Gateway
    from arena.records import SamplingParams, Variant
    variant = Variant("net", "openai-api/bench/model", SamplingParams(max_tokens=8),
                      options={"base_url": url, "max_connections": LIMIT, "stream": STREAM})
    gw = Gateway({"net": variant}, calls_per_model=LIMIT)
    try:
        await gw.ask("net", "player", MESSAGES, match_id="warm-up")  # imports and client set-up
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(gw.ask("net", "player", MESSAGES, match_id=f"m{i}") for i in range(calls)))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        stats = next(iter(gw.stats.values()))
        if stats.errors:
            raise SystemExit(f"{stats.errors} calls failed")
        return seconds, cpu
    finally:
        await gw.aclose()


async def _bare(url: str, calls: int) -> tuple[float, float]:
    import aiohttp
    body = {"model": "model", "messages": MESSAGES, "max_tokens": 8}
    gate = asyncio.Semaphore(LIMIT)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=LIMIT)) as session:
        async def one() -> None:
            async with gate, session.post(url + "/chat/completions", json=body) as resp:
                await resp.json()
        await one()
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one() for _ in range(calls)))
        return time.perf_counter() - started, time.process_time() - cpu


def client_child(kind: str, url: str, calls: int) -> dict:
    seconds, cpu = asyncio.run((_arena if kind == "arena" else _bare)(url, calls))
    return {"seconds": seconds, "cpu_s": cpu}  # both of the measured calls only, set-up excluded


def run(quick: bool = False) -> list[dict]:
    calls = 2_000 if quick else 10_000
    ideal = math.ceil(calls / LIMIT) * LATENCY_S
    try:
        with model_server(LATENCY_S) as url:
            runs = [(child("bench.concurrency", "bare", url, str(calls)),
                     child("bench.concurrency", "arena", url, str(calls))) for _ in range(REPEATS)]
    except Unavailable as exc:
        return [unavailable(NAME, UNIT, TARGET, str(exc))]
    bare_s, arena_s = best([b["seconds"] for b, _ in runs]), best([a["seconds"] for _, a in runs])
    arena_cpu = min(a["cpu_s"] for _, a in runs) / calls * 1e3
    bare_cpu = min(b["cpu_s"] for b, _ in runs) / calls * 1e3
    value, ceiling = ideal / arena_s, ideal / bare_s
    ratio = value / ceiling
    note = (f"{calls} calls, {LIMIT} in flight, {LATENCY_S * 1000:.0f} ms latency, not streamed on either side: "
            f"ideal {ideal:.1f}s, arena {arena_s:.2f}s (client CPU {arena_cpu:.3f} ms/call, openai-api wire client "
            f"through the gateway), bare aiohttp client {bare_s:.2f}s ({bare_cpu:.3f} ms/call); best of {REPEATS} "
            f"alternating runs each; reference = the bare client's efficiency (this machine's ceiling)"
            + ("; met by a hair" if 0.9 <= ratio < 0.93 else ""))
    return [figure(NAME, value, UNIT, ceiling, ratio, TARGET, ratio >= 0.9, note,
                   ratio_meaning="value / reference (share of the machine's ceiling reached)",
                   arena_seconds=[a["seconds"] for _, a in runs], bare_seconds=[b["seconds"] for b, _ in runs],
                   ideal_seconds=ideal, arena_cpu_ms_per_call=arena_cpu, bare_cpu_ms_per_call=bare_cpu)]


if __name__ == "__main__":
    emit(client_child(sys.argv[1], sys.argv[2], int(sys.argv[3])))
