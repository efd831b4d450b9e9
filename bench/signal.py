"""The training signal of the default `arena loop`: verified pairs per CPU-minute, minutes per
iteration, and the paired held-out lift of the child and of the shuffled-preference control.

Full mode runs `arena loop --iterations 1 --control shuffled` (the default loop, no config) in a
fresh run directory in a child process and measures its CPU time (user + system of the child and
everything it starts). `--quick` runs only the loop's tournament (`arena run` of LOOP_DEFAULT):
pairs per CPU-minute, no training. `python -m bench.signal --loop-dir DIR --cpu-s S --wall-s W`
reads a loop that already ran instead.

References: the issue's measurement of main before this work (0.33 pairs per CPU-minute, 6 pairs
per 18-minute iteration). Targets come from the issue: >= 10 verified pairs per CPU-minute,
<= 30 minutes per iteration on 2 cores, and a lift whose interval excludes zero and the control's.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import figure, unavailable

MAIN_PAIRS_PER_CPU_MIN = 0.33  # issue 13, measured on main before this work


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(cmd: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    cpu0, wall0 = _children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return _children_cpu() - cpu0, time.perf_counter() - wall0, done


def verified_pairs(pairs_file: Path) -> tuple[int, int, dict[str, int]]:
    """(verified pairs, all pairs, verified by role) of a DPO export; anchor rows are not counted."""
    verified = total = 0
    by_role: dict[str, int] = {}
    for line in pairs_file.read_text().splitlines():
        row = json.loads(line)
        if row.get("source") != "arena":
            continue
        total += 1
        if row.get("chosen_verified"):
            verified += 1
            by_role[row["role"]] = by_role.get(row["role"], 0) + 1
    return verified, total, by_role


def loop_figures(loop_dir: Path, cpu_s: float, wall_s: float) -> list[dict[str, Any]]:
    gen = loop_dir / "loop" / "gen1"
    verified, total, by_role = verified_pairs(gen / "pairs.jsonl")
    roles = ", ".join(f"{r} {n}" for r, n in sorted(by_role.items()))
    rate = verified / (cpu_s / 60)
    figs = [
        figure("loop_verified_pairs_per_cpu_minute", rate, "pairs/CPU-min", MAIN_PAIRS_PER_CPU_MIN,
               rate / MAIN_PAIRS_PER_CPU_MIN, ">= 10", rate >= 10,
               note=f"{verified} verified of {total} pairs in one default iteration ({roles}); CPU "
                    f"{cpu_s / 60:.1f} min, training, control arm and evaluation included; reference: main "
                    f"before this work (issue 13)"),
        figure("loop_minutes_per_iteration", wall_s / 60, "min", None, None, "<= 30", wall_s / 60 <= 30,
               note="one `arena loop --iterations 1 --control shuffled`: tournament, guard, child and control training, paired evaluation, and the last tournament that rates the child (its new pairings only)"),
    ]
    evaluation = gen / "eval.json"
    if not evaluation.is_file():
        return figs
    report = json.loads(evaluation.read_text())
    diffs = report.get("diffs", {})
    vs_control = diffs.get("child-control", {}).get("predict-output similarity")
    for arm, name in (("child", "loop_heldout_lift"), ("control", "loop_control_lift")):
        d = diffs.get(arm, {}).get("predict-output similarity")
        if not d:
            continue
        met = None
        if arm == "child" and vs_control:
            met = d["lo"] > 0 and vs_control["lo"] > 0
        figs.append(figure(name, d["mean"], "similarity", None, None,
                           "interval above 0 and above the control's" if arm == "child" else "(the control)", met,
                           note=f"{arm} - parent, 95% bootstrap [{d['lo']:+.3f}, {d['hi']:+.3f}] over {d['n']} "
                                f"held-out programs (greedy and sampled pooled)"
                                + (f"; child - control [{vs_control['lo']:+.3f}, {vs_control['hi']:+.3f}]"
                                   if arm == "child" and vs_control else "")))
    ordinary = diffs.get("child", {}).get("ordinary correct")
    if ordinary:
        figs.append(figure("loop_ordinary_change", ordinary["mean"], "share correct", None, None,
                           "interval not below 0", ordinary["hi"] >= 0,
                           note=f"child - parent, 95% bootstrap [{ordinary['lo']:+.3f}, {ordinary['hi']:+.3f}] "
                                f"over {ordinary['n']} held-out ordinary questions"))
    return figs


def run(quick: bool = False) -> list[dict[str, Any]]:
    if quick:
        return [unavailable("loop_verified_pairs_per_cpu_minute", "pairs/CPU-min", ">= 10",
                            "runs one default loop iteration (about 13 minutes): the full benchmark only")]
    work = Path(tempfile.mkdtemp(prefix="arena-bench-signal-"))
    cmd = [sys.executable, "-m", "arena.cli", "loop", "--iterations", "1", "--control", "shuffled",
           "--run-dir", str(work / "run"), "--display", "none"]
    cpu_s, wall_s, done = _timed(cmd, work)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return [unavailable("loop_verified_pairs_per_cpu_minute", "pairs/CPU-min", ">= 10",
                            f"arena loop failed: {tail[0][:200]}")]
    return loop_figures(work / "run", cpu_s, wall_s)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.signal")
    ap.add_argument("--loop-dir", help="a run directory where the default loop already ran")
    ap.add_argument("--cpu-s", type=float, help="CPU seconds that loop took")
    ap.add_argument("--wall-s", type=float, help="wall seconds that loop took")
    args = ap.parse_args()
    if args.loop_dir and (args.cpu_s is None or args.wall_s is None):
        ap.error("--loop-dir needs --cpu-s and --wall-s (the loop's CPU and wall seconds)")
    figs = loop_figures(Path(args.loop_dir), args.cpu_s, args.wall_s) if args.loop_dir else run()
    for fig in figs:
        print(json.dumps(fig))


if __name__ == "__main__":
    main()
