"""Engine overhead per model call, against Inspect AI doing the same work on the same path.

engine_overhead_per_call (the honest pair): N prompts x M models, one generate call each, a trivial
scorer, the run's record written (the arena's SQLite store, response cache and ratings replay;
Inspect's eval log), the same concurrency (10 at once), both against the same local
OpenAI-compatible server over real HTTP (bench/model_server.py, zero latency). The arena's models
are `openai-api/bench/model-<j>` variants (players/openai_wire.py), Inspect's its own
`openai-api/bench/model-<j>` provider (BENCH_BASE_URL / BENCH_API_KEY), neither streamed.

engine_overhead_per_call_mock_path (context, not a pair on the real path): the same workload
against each engine's zero-latency mock model (`mock/constant`, `mockllm/...`), where no HTTP is
made and the arena's scripted player skips what a real backend needs (cache writes, a timeout).

Per-call overhead is the slope: (time of 3N - time of N) / (2N*M calls), so start-up costs
(imports, log and store creation) cancel out. Each run is a fresh child process; the two sides
alternate, and each size takes the median of three runs on both sides.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time

from bench.common import Unavailable, child, emit, figure, unavailable
from bench.model_server import model_server

CONCURRENCY = 10
MODELS = 2
RUNS = 3
NAME, UNIT = "engine_overhead_per_call", "us/call"
# Inspect AI is the anchor: a maintained engine doing this exact work. On the real path the target
# is parity or better (docs/benchmarks.md says why no larger factor can be promised there).
TARGET, TARGET_RATIO = ">= 1x (no more overhead per call than Inspect AI)", 1.0
MOCK_NAME, MOCK_TARGET = "engine_overhead_per_call_mock_path", "context only (no HTTP; not the real path)"


def arena_child(n: int, m: int, base_url: str = "") -> dict:
    from arena.config import parse_config
    from arena.engine.runner import run
    from bench.families import register
    register()
    if base_url:
        variants = [{"name": f"net-{j}", "model": f"openai-api/bench/model-{j}", "base_url": base_url,
                     "stream": False} for j in range(m)]
    else:
        variants = [{"name": f"net-{j}", "model": "mock/constant", "text": "Default output"} for j in range(m)]
    cfg = parse_config({
        "tournament": {"name": "overhead", "families": ["bench-echo"], "players": [v["name"] for v in variants],
                       "rounds": n, "matches_in_flight": CONCURRENCY, "calls_per_model": CONCURRENCY},
        "variants": variants,
    })
    with tempfile.TemporaryDirectory() as run_dir:
        started = time.perf_counter()
        summary = run(cfg, run_dir)
        seconds = time.perf_counter() - started
    if summary.finished != n * m:
        raise SystemExit(f"only {summary.finished} of {n * m} matches finished")
    return {"seconds": seconds, "calls": n * m}


def _slopes(n: int, url: str, inspect_python: str) -> tuple[dict, dict]:
    """Median seconds per size, both sides, alternating child by child."""
    arena: dict[int, list[float]] = {n: [], 3 * n: []}
    inspect: dict[int, list[dict]] = {n: [], 3 * n: []}
    for _ in range(RUNS):
        for size in (n, 3 * n):
            arena[size].append(child("bench.overhead", str(size), str(MODELS), url)["seconds"])
            inspect[size].append(child("bench.ref_inspect", str(size), str(MODELS), str(CONCURRENCY), url,
                                       python=inspect_python))
    return ({s: statistics.median(v) for s, v in arena.items()},
            {s: {"seconds": statistics.median(r["seconds"] for r in v), "tokenizer": v[-1]["tokenizer"]}
             for s, v in inspect.items()})


def _figure(name: str, target: str, n: int, arena: dict, inspect: dict, path: str, **extra) -> dict:
    calls = 2 * n * MODELS
    ours = (arena[3 * n] - arena[n]) / calls * 1e6
    theirs = (inspect[3 * n]["seconds"] - inspect[n]["seconds"]) / calls * 1e6
    ratio = theirs / ours if ours > 0 else None
    met = None if name == MOCK_NAME else (ratio is not None and ratio >= TARGET_RATIO)
    hair = " (met by a hair)" if met and ratio is not None and ratio < 1.1 * TARGET_RATIO else ""
    note = (f"{path}: {n}/{3 * n} prompts x {MODELS} models, {CONCURRENCY} at once; slope of the two sizes, median of "
            f"{RUNS} alternating runs per size and side{hair}. Inspect tokenizer: {inspect[3 * n]['tokenizer']}")
    return figure(name, ours, UNIT, theirs, ratio, target, met, note, ratio_meaning="reference / value",
                  arena_seconds=[arena[n], arena[3 * n]],
                  inspect_seconds=[inspect[n]["seconds"], inspect[3 * n]["seconds"]], **extra)


def run(quick: bool = False) -> list[dict]:
    from bench import venv
    n = 50 if quick else 250
    try:
        inspect_python = venv.ensure("inspect_ai")
    except Unavailable as exc:
        return [unavailable(NAME, UNIT, TARGET, f"Inspect AI: {exc}"),
                unavailable(MOCK_NAME, UNIT, MOCK_TARGET, f"Inspect AI: {exc}")]
    out = []
    try:
        with model_server(0.0) as url:
            arena, inspect = _slopes(n, url, inspect_python)
        out.append(_figure(NAME, TARGET, n, arena, inspect, "real HTTP to one local OpenAI-compatible server "
                           "(arena openai-api wire client vs Inspect's openai-api provider, neither streamed)",
                           reference_engine="Inspect AI (openai-api provider)"))
    except Unavailable as exc:
        out.append(unavailable(NAME, UNIT, TARGET, str(exc)))
    try:
        arena, inspect = _slopes(n, "", inspect_python)
        out.append(_figure(MOCK_NAME, MOCK_TARGET, n, arena, inspect, "mock models, no HTTP (mock/constant vs "
                           "mockllm)", reference_engine="Inspect AI (mockllm)"))
    except Unavailable as exc:
        out.append(unavailable(MOCK_NAME, UNIT, MOCK_TARGET, str(exc)))
    return out


if __name__ == "__main__":
    emit(arena_child(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else ""))
