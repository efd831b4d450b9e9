"""`python -m bench [--quick] [--json FILE] [--markdown FILE] [--only NAME,...]`

Runs the benchmark suite and prints one line per figure: the arena's value, the reference
measured in the same run (another engine, or this machine's limit), their ratio and the target.
Benchmarks are not tests: nothing here fails a build; a figure that cannot be measured says why.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import machine, unavailable

# name -> module; each module has run(quick) -> list[dict]. Cheap ones first.
BENCHMARKS = {
    "overhead": "bench.overhead",
    "sandbox": "bench.sandbox_bench",
    "concurrency": "bench.concurrency",
    "games": "bench.games",
    "embedded": "bench.embedded",
    "referees": "bench.referee_verdicts",
    "referee-accuracy": "bench.referee_accuracy",
    "checkpoint": "bench.checkpoint",
    "scale": "bench.scale",
    "ray": "bench.ray_scaling",
    "signal": "bench.signal",  # last: one default loop iteration, about 13 minutes
}


def line(fig: dict[str, Any]) -> str:
    if fig.get("value") is None:
        return f"{fig['name']}: {fig.get('note') or 'unavailable'}"
    met = {True: "met", False: "NOT met", None: "?"}[fig.get("target_met")]
    ref = "" if fig.get("reference") is None else f" | reference {fig['reference']:g}"
    ratio = "" if fig.get("ratio") is None else f" | ratio {fig['ratio']:g}"
    return f"{fig['name']}: {fig['value']:g} {fig['unit']}{ref}{ratio} | target {fig['target']} ({met})"


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}" if abs(x) >= 1 else f"{x:.3g}"


def markdown(figs: list[dict[str, Any]], host: dict[str, Any], quick: bool, seconds: float) -> str:
    load = host.get("load_average")
    rows = ["| figure | arena | reference | ratio | target | met |", "| --- | --- | --- | --- | --- | --- |"]
    for f in figs:
        if f.get("value") is None:
            rows.append(f"| {f['name']} | unavailable | | | {f.get('target', '')} | |")
            continue
        ref = "" if f.get("reference") is None else f"{_num(f['reference'])} {f['unit']}"
        ratio = "" if f.get("ratio") is None else _num(f["ratio"])
        met = {True: "yes", False: "**no**", None: "?"}[f.get("target_met")]
        rows.append(f"| {f['name']} | {_num(f['value'])} {f['unit']} | {ref} | {ratio} | {f['target']} | {met} |")
    notes = [f"- **{f['name']}**: {f['note']}" for f in figs if f.get("note")]
    head = (f"Measured {host['date']} on {host['cpu']}, {host['cores']} cores, {host['memory_gib']} GiB, "
            f"Python {host['python']}, {host['os']}"
            + (f"; load average at the start {load[0]:.1f}" if load else "")
            + f"; `python -m bench{' --quick' if quick else ''}` took {seconds / 60:.1f} min.")
    return "\n".join([head, "", *rows, "", *notes, ""])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[2].strip())
    ap.add_argument("--quick", action="store_true", help="smaller workloads (about two minutes)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as a JSON object keyed by figure name")
    ap.add_argument("--markdown", metavar="FILE", help="also write the figures as a Markdown table")
    ap.add_argument("--only", metavar="NAME,...", help=f"run some benchmarks: {', '.join(BENCHMARKS)}")
    args = ap.parse_args(argv)
    names = list(BENCHMARKS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown:
            print(f"bench: unknown benchmark {unknown[0]!r} (known: {', '.join(BENCHMARKS)})", file=sys.stderr)
            return 2
    host = machine()
    print(f"bench on {host['cpu']} ({host['cores']} cores), Python {host['python']}, load {host['load_average']}",
          flush=True)
    started = time.perf_counter()
    figs: list[dict[str, Any]] = []
    for name in names:
        t0 = time.perf_counter()
        try:
            results = importlib.import_module(BENCHMARKS[name]).run(quick=args.quick)
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            results = [unavailable(name, "", "", f"{type(exc).__name__}: {exc}")]
        for fig in results:
            fig.setdefault("note", "")
            fig["seconds_to_measure"] = round(time.perf_counter() - t0, 1)
            print(line(fig), flush=True)
        figs += results
    seconds = time.perf_counter() - started
    print(f"done in {seconds:.0f}s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({f["name"]: {**f, "machine": host} for f in figs}, indent=2) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(markdown(figs, host, args.quick, seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
