"""What every benchmark shares: the figure record, child processes, the machine's description.

Each benchmark module exposes `run(quick: bool) -> list[dict]`; each dict is one figure with at
least name, value, unit, reference, ratio, target, target_met and note. Workloads run in fresh
child processes (the arena's under this interpreter, the reference engines' under the bench venv),
so no figure inherits another's heap, imports or loaded models.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


class Unavailable(Exception):
    """A figure cannot be measured here (reference engine not installable, ...); says why."""


def figure(name: str, value: float | None, unit: str, reference: float | None, ratio: float | None,
           target: str, target_met: bool | None, note: str = "", **extra: Any) -> dict[str, Any]:
    return {"name": name, "value": _round(value), "unit": unit, "reference": _round(reference),
            "ratio": _round(ratio), "target": target, "target_met": target_met, "note": note, **extra}


def unavailable(name: str, unit: str, target: str, reason: str) -> dict[str, Any]:
    return figure(name, None, unit, None, None, target, None, f"unavailable: {reason}")


def _round(x: float | None) -> float | None:
    if x is None:
        return None
    return round(x, 4) if abs(x) < 100 else round(x, 1)


def child(module: str, *args: str, python: str | None = None, timeout: float = 600,
          env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `python -m module args` from the repo root; its last stdout line that is a JSON
    object is the answer. `python` (the bench venv's interpreter) runs a reference engine."""
    cmd = [python or sys.executable, "-m", module, *args]
    full_env = {**os.environ, "PYTHONHASHSEED": "0", **(env or {})}
    if python is None:
        full_env["PYTHONPATH"] = str(REPO)
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=full_env)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"{module} did not finish within {timeout:.0f}s") from None
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise Unavailable(f"{module} failed (exit {proc.returncode}): {tail[:300]}")
    return json.loads(lines[-1])


def emit(result: dict[str, Any]) -> None:
    """A child's answer to `child()`."""
    print(json.dumps(result), flush=True)


def best(samples: list[float]) -> float:
    """The least disturbed of repeated timings on a shared machine."""
    return min(samples)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_gib, "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}", "load_average": load,
            "date": time.strftime("%Y-%m-%d %H:%M")}
