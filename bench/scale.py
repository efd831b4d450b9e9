"""Scale: peak memory and time of a whole run (tournament, store, ratings replay, DPO export)
at 1k, 10k and 100k matches of scripted players.

Each size runs in a fresh child process, which reports its own peak RSS (getrusage) and the
time of each phase. The workload is bench-pair (two seats, one call each, ranked; every match
moves ratings and yields one preference pair) between 5 mock players, round-robin.

Targets: memory flat (< 50 MB more at the largest size than at 1k), time linear (the CPU time per
match at the largest size within 1.25x of that at 1k; wall times are in the note).
"""
from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Unavailable, child, emit, figure, unavailable

PLAYERS = 5  # 5 x 4 seat orders = 20 matches a round
MEM_NAME, TIME_NAME = "scale_memory_growth", "scale_time_per_match"


def scale_child(matches: int) -> dict:
    from arena.config import parse_config
    from arena.engine.runner import run
    from arena.training.export import ExportOptions, export_dpo
    from bench.families import register
    register()
    per_round = PLAYERS * (PLAYERS - 1)
    names = [f"mock-{i}" for i in range(PLAYERS)]
    cfg = parse_config({
        "tournament": {"name": "scale", "families": ["bench-pair"], "players": names,
                       "rounds": -(-matches // per_round), "matches_in_flight": 8},
        "variants": [{"name": n, "model": "mock/random"} for n in names],
    })
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        cpu = time.process_time()
        started = time.perf_counter()
        summary = run(cfg, run_dir)
        played = time.perf_counter()
        stats = export_dpo(run_dir, Path(tmp) / "pairs.jsonl", ExportOptions(embeddings=False))
        exported = time.perf_counter()
        cpu = time.process_time() - cpu
        db_mb = sum(p.stat().st_size for p in run_dir.iterdir()) / 2**20
    return {"matches": summary.finished, "failed": summary.failed, "pairs": stats.pairs, "cpu_s": cpu,
            "run_s": played - started, "export_s": exported - played, "peak_rss_mb": _peak_rss_mb(), "store_mb": db_mb}


def _peak_rss_mb() -> float:
    # VmHWM belongs to this process image; getrusage's maxrss survives exec, so a child of a big
    # parent would report the parent's size.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux; bytes on macOS


def run(quick: bool = False) -> list[dict]:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    results = {}
    try:
        for n in sizes:
            results[n] = child("bench.scale", str(n), timeout=1200)
    except Unavailable as exc:
        return [unavailable(MEM_NAME, "MB", "< 50 MB growth", str(exc)),
                unavailable(TIME_NAME, "ms CPU/match", "<= 1.25x of 1k", str(exc))]
    small, large = results[sizes[0]], results[sizes[-1]]
    growth = large["peak_rss_mb"] - small["peak_rss_mb"]
    # CPU time: the scaling of the work itself, much less moved by other load on the machine than wall time
    per_match = {n: r["cpu_s"] / r["matches"] * 1e3 for n, r in results.items()}
    linear = per_match[sizes[-1]] / per_match[sizes[0]]
    table = "; ".join(f"{n // 1000}k: {r['peak_rss_mb']:.0f} MB peak, {r['run_s']:.1f}s run + {r['export_s']:.1f}s "
                      f"export, store {r['store_mb']:.0f} MB, {r['pairs']} pairs" for n, r in results.items())
    note = f"{table}{' (--quick: 100k skipped)' if quick else ''}; export with lexical diversity (no embeddings)"
    return [
        figure(MEM_NAME, growth, "MB", small["peak_rss_mb"], large["peak_rss_mb"] / small["peak_rss_mb"],
               "< 50 MB growth", growth < 50, note, sizes=list(sizes),
               peak_rss_mb={n: r["peak_rss_mb"] for n, r in results.items()},
               ratio_meaning="peak RSS at the largest size / at 1k"),
        figure(TIME_NAME, per_match[sizes[-1]], "ms CPU/match", per_match[sizes[0]], linear, "<= 1.25x of 1k",
               linear <= 1.25, f"CPU time per match (tournament + export) at {sizes[-1] // 1000}k vs 1k",
               ms_per_match={n: per_match[n] for n in sizes}, ratio_meaning="value / reference"),
    ]


if __name__ == "__main__":
    emit(scale_child(int(sys.argv[1])))
