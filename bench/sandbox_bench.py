"""Cost of the sandbox per program, against a bare `python -c pass` measured in the same run."""
from __future__ import annotations

import subprocess
import sys
import time

from referees.sandbox import isolation, run_python_sync


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(quick: bool = False) -> list[dict]:
    n = 20 if quick else 100
    level = isolation().level  # probe once, outside the timed loop
    run_python_sync("pass")  # warm caches (imports, page cache) for both sides
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    sandboxed, bare, isolated = [], [], []
    for _ in range(n):  # interleaved, so load drifts hit both sides alike
        sandboxed.append(_timed(lambda: _check(run_python_sync("pass"))))
        bare.append(_timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)))
        isolated.append(_timed(lambda: subprocess.run([sys.executable, "-E", "-s", "-S", "-B", "-c", "pass"],
                                                      check=True)))
    value, reference = sum(sandboxed) / n, sum(bare) / n
    ratio = value / reference
    return [{
        "name": "sandbox_overhead", "value": round(value, 5), "unit": "s/program", "reference": round(reference, 5),
        "ratio": round(ratio, 3), "target": "<= 1.5", "target_met": ratio <= 1.5,
        # context: the same interpreter flags without any isolation, so value - this = isolation cost
        "isolated_interpreter_s": round(sum(isolated) / n, 5), "isolation": level, "n": n,
    }]


def _check(result) -> None:
    if result.status != "ok":
        raise RuntimeError(f"sandboxed `pass` failed: {result}")


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
