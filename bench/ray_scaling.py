"""Scaling on a Ray cluster (referees/sandbox/remote.py): sandbox runs per second with 1 and with
2 Ray worker nodes on this machine, and what Ray adds to one run against the same run in-process.

Each measurement starts its own local multi-node cluster (tests/support/ray_cluster.py: a head that
runs nothing, worker nodes of one CPU each) in a fresh child process. The workload, every side:
the same short Python program (`print(sum(range(1000)))`) run in the sandbox at the strongest
isolation level found, N runs.

- Throughput: N runs submitted at once, with 1 worker node and with 2. Both nodes share this
  machine's two cores, so 2 nodes can at most double the rate of 1 (one run a core): the
  ratio says how much of that Ray keeps.
- Overhead: N runs one after another, through Ray with one worker node and in-process; the
  difference per run is Ray's own cost (task submission, scheduling, result transfer).
- Replicas: the embedded model's generated tokens/s with 1 and 2 Ray replicas (players/ray_local.py),
  and in-process for context.
"""
from __future__ import annotations

import asyncio
import sys
import time

from bench.common import Unavailable, child, emit, figure, unavailable

PROGRAM = "print(sum(range(1000)))"
RATE_NAME, OVERHEAD_NAME = "ray_sandbox_scaling_2_vs_1_nodes", "ray_sandbox_overhead_per_run"


async def _runs(n: int, at_once: bool) -> float:
    from referees.sandbox import run_python
    started = time.perf_counter()
    if at_once:
        results = await asyncio.gather(*(run_python(PROGRAM) for _ in range(n)))
    else:
        results = [await run_python(PROGRAM) for _ in range(n)]
    seconds = time.perf_counter() - started
    bad = [r.status for r in results if r.status != "ok"]
    if bad:
        raise SystemExit(f"{len(bad)} sandbox runs failed: {bad[:3]}")
    return seconds


def measure_child(mode: str, n: int) -> dict:
    """mode: "local" (in-process, one after another) or "nodes-K-at-once" / "nodes-K-serial"."""
    if mode == "local":
        asyncio.run(_runs(4, at_once=False))  # the isolation probe and page cache, outside the clock
        return {"seconds": asyncio.run(_runs(n, at_once=False)), "runs": n}
    from referees.sandbox import remote
    from tests.support.ray_cluster import local_cluster
    _, nodes, order = mode.split("-")
    with local_cluster(*[{"num_cpus": 1}] * int(nodes)) as (c, _):
        remote.place(c.address, "ray")
        asyncio.run(_runs(4 * int(nodes), at_once=True))  # a worker process started on every node
        seconds = asyncio.run(_runs(n, at_once=order == "at_once"))
    return {"seconds": seconds, "runs": n}


def generate_child(replicas: int, calls: int) -> dict:
    """Generated tokens/s of the embedded model: in-process (replicas 0) or as that many Ray
    replicas on as many one-CPU worker nodes, 2 calls in flight per replica (or 2 in-process)."""
    from arena.engine.gateway import Gateway
    from arena.records import SamplingParams, Variant

    async def ask_all(variant: Variant) -> tuple[int, float]:
        gw = Gateway({variant.name: variant}, calls_per_model=2)
        try:
            await gw.ask(variant.name, "player", [{"role": "user", "content": "Hi"}], match_id="warm")
            if replicas:  # every replica loaded before the clock starts
                await asyncio.gather(*(gw.ask(variant.name, "player", [{"role": "user", "content": f"Hi {i}"}],
                                              match_id=f"warm{i}") for i in range(2 * replicas)))
            started = time.perf_counter()
            done = await asyncio.gather(*(gw.ask(variant.name, "player", [{"role": "user", "content": PROMPTS[i % 4]}],
                                                 match_id=f"m{i}") for i in range(calls)))
            return sum(c.output_tokens or 0 for c in done), time.perf_counter() - started
        finally:
            await gw.aclose()

    options = {"server": "off"} | ({"replicas": replicas, "num_cpus": 1} if replicas else {})
    variant = Variant("smol", "local/smollm2-135m", SamplingParams(max_tokens=48, temperature=0.7, seed=1),
                      options=options)
    if not replicas:
        tokens, seconds = asyncio.run(ask_all(variant))
        return {"tokens": tokens, "seconds": seconds}
    from arena import cluster
    from tests.support.ray_cluster import local_cluster
    with local_cluster(*[{"num_cpus": 1}] * replicas) as (c, _):
        cluster.connect(c.address)
        tokens, seconds = asyncio.run(ask_all(variant))
    return {"tokens": tokens, "seconds": seconds}


PROMPTS = ["Write a short story about a lighthouse keeper.", "Explain how a bicycle stays upright.",
           "List five uses for a paperclip.", "Describe the water cycle to a child."]
TOKENS_NAME = "ray_local_replicas_2_vs_1"


def run(quick: bool = False) -> list[dict]:
    return _sandbox(quick) + [_replicas(quick)]


def _replicas(quick: bool) -> dict:
    target = ">= 0.9x (both replicas share two cores: ideal 1.0x, no gain is possible here)"
    calls = 8 if quick else 24
    try:
        local = child("bench.ray_scaling", "generate-0", str(calls))
        one = child("bench.ray_scaling", "generate-1", str(calls))
        two = child("bench.ray_scaling", "generate-2", str(calls))
    except Unavailable as exc:
        return unavailable(TOKENS_NAME, "x", target, str(exc))
    rate = {k: r["tokens"] / r["seconds"] for k, r in (("local", local), ("one", one), ("two", two))}
    ratio = rate["two"] / rate["one"]
    return figure(TOKENS_NAME, ratio, "x", 1.0, ratio, target, ratio >= 0.9,
                  f"{calls} generations of up to 48 tokens, 2 in flight per replica: in-process {rate['local']:.1f} "
                  f"tokens/s, 1 replica {rate['one']:.1f}, 2 replicas on 2 one-CPU nodes {rate['two']:.1f}; each "
                  "replica decodes with one thread (its node's CPU), beside the driver and the raylets on the same "
                  "two cores",
                  tokens_per_s_in_process=rate["local"], tokens_per_s_1_replica=rate["one"],
                  tokens_per_s_2_replicas=rate["two"])


def _sandbox(quick: bool) -> list[dict]:
    import importlib.util
    if importlib.util.find_spec("ray") is None:
        why = "Ray is not installed (pip install -e '.[ray]')"
        return [unavailable(RATE_NAME, "x", ">= 1.5x", why), unavailable(OVERHEAD_NAME, "ms/run", "<= 5 ms", why)]
    n = 40 if quick else 160
    try:
        one = child("bench.ray_scaling", "nodes-1-at_once", str(n))
        two = child("bench.ray_scaling", "nodes-2-at_once", str(n))
        serial = child("bench.ray_scaling", "nodes-1-serial", str(n // 2))
        local = child("bench.ray_scaling", "local", str(n // 2))
    except Unavailable as exc:
        return [unavailable(RATE_NAME, "x", ">= 1.5x", str(exc)),
                unavailable(OVERHEAD_NAME, "ms/run", "<= 5 ms", str(exc))]
    rate1, rate2 = n / one["seconds"], n / two["seconds"]
    ratio = rate2 / rate1
    per_ray, per_local = serial["seconds"] / serial["runs"] * 1e3, local["seconds"] / local["runs"] * 1e3
    overhead = per_ray - per_local
    return [
        figure(RATE_NAME, ratio, "x", 2.0, ratio / 2.0, ">= 1.5x (ideal 2x: one run a core, two cores)", ratio >= 1.5,
               f"{n} sandbox runs submitted at once: 1 worker node {rate1:.1f} runs/s, 2 worker nodes {rate2:.1f} "
               f"runs/s; both nodes on this machine's two cores, beside the driver and the raylets",
               ratio_meaning="value / ideal", runs_per_s_1_node=rate1, runs_per_s_2_nodes=rate2),
        figure(OVERHEAD_NAME, overhead, "ms/run", per_local, per_ray / per_local, "<= 5 ms", overhead <= 5,
               f"{serial['runs']} runs one after another: through Ray (1 worker node) {per_ray:.1f} ms each, "
               f"in-process {per_local:.1f} ms each; reference = the in-process run",
               ratio_meaning="through Ray / in-process"),
    ]


if __name__ == "__main__":
    if sys.argv[1].startswith("generate-"):
        emit(generate_child(int(sys.argv[1].split("-")[1]), int(sys.argv[2])))
    else:
        emit(measure_child(sys.argv[1], int(sys.argv[2])))
