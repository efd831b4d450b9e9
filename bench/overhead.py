"""Engine overhead per model call, against Inspect AI on the same workload.

Workload, both sides: N prompts x M zero-latency mock models, one generate call each, a
trivial scorer, the run's record written (the arena's SQLite store with its ratings replay;
Inspect's eval log), the same concurrency (10 at once). The arena plays it as a tournament
of the bench-echo family through arena.engine.runner.run_tournament; Inspect as an eval of
`mockllm/...` models.

Per-call overhead is the slope: (time of 3N - time of N) / (2N*M calls), so start-up costs
(imports, log and store creation) cancel out. Each run is a fresh child process.
"""
from __future__ import annotations

import sys
import tempfile
import time

from bench.common import Unavailable, child, emit, figure, unavailable

CONCURRENCY = 10
MODELS = 2
NAME, UNIT, TARGET = "engine_overhead_per_call", "us/call", ">= 10x less than Inspect AI"


def arena_child(n: int, m: int) -> dict:
    from arena.config import parse_config
    from arena.engine.runner import run
    from bench.families import register
    register()
    cfg = parse_config({
        "tournament": {"name": "overhead", "families": ["bench-echo"], "players": [f"mock-{j}" for j in range(m)],
                       "rounds": n, "matches_in_flight": CONCURRENCY, "calls_per_model": CONCURRENCY},
        "variants": [{"name": f"mock-{j}", "model": "mock/constant", "text": "Default output"} for j in range(m)],
    })
    with tempfile.TemporaryDirectory() as run_dir:
        started = time.perf_counter()
        summary = run(cfg, run_dir)
        seconds = time.perf_counter() - started
    if summary.finished != n * m:
        raise SystemExit(f"only {summary.finished} of {n * m} matches finished")
    return {"seconds": seconds, "calls": n * m}


def run(quick: bool = False) -> list[dict]:
    from bench import venv
    n = 50 if quick else 250
    try:
        inspect_python = venv.ensure("inspect_ai")
    except Unavailable as exc:
        return [unavailable(NAME, UNIT, TARGET, f"Inspect AI: {exc}")]
    arena, inspect = {}, {}
    try:
        for size in (n, 3 * n):  # interleaved, so a load change on the machine hits both sides
            # The arena's runs last a fraction of a second, where one stall elsewhere on a shared
            # machine shows; the median of three steadies them (Inspect's take seconds).
            runs = sorted((child("bench.overhead", str(size), str(MODELS)) for _ in range(3)),
                          key=lambda r: r["seconds"])
            arena[size] = runs[1]
            inspect[size] = child("bench.ref_inspect", str(size), str(MODELS), str(CONCURRENCY),
                                  python=inspect_python)
    except Unavailable as exc:
        return [unavailable(NAME, UNIT, TARGET, str(exc))]
    calls = 2 * n * MODELS
    ours = (arena[3 * n]["seconds"] - arena[n]["seconds"]) / calls * 1e6
    theirs = (inspect[3 * n]["seconds"] - inspect[n]["seconds"]) / calls * 1e6
    ratio = theirs / ours if ours > 0 else None
    note = (f"{n}/{3 * n} prompts x {MODELS} mock models, {CONCURRENCY} at once; slope of the two sizes (arena: median "
            f"of 3 runs each). "
            f"Inspect tokenizer: {inspect[3 * n]['tokenizer']}")
    return [figure(NAME, ours, UNIT, theirs, ratio, TARGET, ratio is not None and ratio >= 10, note,
                   reference_engine="Inspect AI (mockllm)", ratio_meaning="reference / value",
                   arena_seconds=[arena[n]["seconds"], arena[3 * n]["seconds"]],
                   inspect_seconds=[inspect[n]["seconds"], inspect[3 * n]["seconds"]])]


if __name__ == "__main__":
    emit(arena_child(int(sys.argv[1]), int(sys.argv[2])))
