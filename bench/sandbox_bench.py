"""Cost of the sandbox per program, against the same program run by the same interpreter with the
same flags and environment without isolation, measured in the same run.

Both sides run `pass` as main.py in a fresh scratch directory, under `python -E -s -S -B` with the
sandbox's clean environment (referees/sandbox/confinement.py builds both, so the pair stays the
same if the sandbox's environment changes). The difference is the isolation alone: bubblewrap's
namespaces and mounts, rlimits, the syscall filter. The sandboxed side is `await run_python(...)`
in one running event loop, the path the families take; the blocking wrapper `run_python_sync`
(a new event loop per call, for one-shot callers such as `arena sandbox`) is timed too and kept
in the note, as is a full interpreter's `python -c pass` (site-packages imported).

The same runs from a process holding the embedded model (as `arena run` does: ~450 MB resident)
are a second figure. A sandboxed start forks its caller, and a fork costs in proportion to what the
caller has mapped, so the sandbox's helper process (referees/sandbox/spawner.py) starts the
programs; the figure is that run's time against the same run from a small process, measured in
the same run, with the start from the loaded process itself (the helper off) in the note.

The floor (the target's base) is unchanged: bubblewrap's bare namespaces around /bin/true. As
context only, the note also gives bubblewrap with the sandbox's own options (its view built from
nothing, fresh /dev, the syscall filter, no nested user namespaces, no capabilities) around /bin/true.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import figure
from referees.sandbox import isolation, run_python, run_python_sync
from referees.sandbox.confinement import _env  # the sandbox's clean environment

NAME, UNIT = "sandbox_overhead", "s/program"
LOADED = "sandbox_from_a_loaded_caller"
# The work is the same whatever the caller holds: a run may cost it at most a tenth more (noise).
LOADED_TARGET = "<= 1.1x the same run from a small process"
# The physical limit: bubblewrap sets up user, mount, PID, network and IPC namespaces, /proc and a
# tmpfs before the interpreter starts, 5-7 ms here on a stripped start of 10-16 ms, so no sandbox
# built on it gets under ~1.3-1.7x (measured in the same run as the floor). The target leaves a
# quarter on top for what the sandbox adds to bare namespaces (its bind mounts, the syscall filter,
# rlimits, the parent's preparation). Without bubblewrap the 1.5x applies.
TARGET = "<= 1.25x the floor (the same interpreter without isolation + bubblewrap's own set-up)"
TARGET_NO_BWRAP = "<= 1.5x the same interpreter without isolation"


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _unisolated(flags: list[str]) -> None:
    """What the sandbox runs, without the sandbox: main.py in a fresh scratch dir, its flags and env."""
    scratch = tempfile.mkdtemp(prefix="arena-bench-")
    try:
        with open(os.path.join(scratch, "main.py"), "w") as f:
            f.write("pass")
        # as referees/sandbox/confinement.py's _python_argv, without the audit hook (isolation too)
        subprocess.run([sys.executable, *flags, "main.py"], env=_env(scratch), cwd=scratch, check=True,
                       stdin=subprocess.DEVNULL, capture_output=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _namespace_floor(n: int) -> tuple[float | None, float | None]:
    """bubblewrap's own set-up (its namespaces, /proc, a tmpfs) around /bin/true, less /bin/true: the
    physical part of the isolation cost, which no sandbox built on it can go under; and, as context,
    the same for the sandbox's own bubblewrap options."""
    from referees.sandbox import bubblewrap
    bwrap = bubblewrap.available()
    if not bwrap or not os.path.exists("/bin/true"):
        return None, None
    wrapped = [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--ro-bind", "/", "/",
               "--proc", "/proc", "--tmpfs", "/tmp", "/bin/true"]
    with_ns, same, without = [], [], []
    for _ in range(n):
        with_ns.append(_timed(lambda: subprocess.run(wrapped, check=True, capture_output=True)))
        same.append(_timed(_same_options))
        without.append(_timed(lambda: subprocess.run(["/bin/true"], check=True)))
    return (sum(with_ns) - sum(without)) / n, (sum(same) - sum(without)) / n


def _same_options() -> None:
    """The sandbox's own bubblewrap options (referees/sandbox/bubblewrap.py: the view built from nothing,
    fresh /dev, the syscall filter, no capabilities or nested user namespaces) around /bin/true, as a
    uid of its own when root, as the sandbox runs it (context only: not the target's floor)."""
    from referees.sandbox import bubblewrap
    from referees.sandbox.confinement import UID_BASE, syscall_filter
    filt = syscall_filter()
    argv, fds = bubblewrap.command(bubblewrap.available(), ["/bin/true"], {"main.py": "pass"}, [], 256,
                                   filt.bpf if filt else None)
    uid = UID_BASE + (1 << 22) + os.getpid()  # outside the sandbox's own range (UID_BASE + a pid)
    own = {"user": uid, "group": uid, "extra_groups": []} if os.geteuid() == 0 else {}
    try:
        subprocess.run(argv, check=True, capture_output=True, pass_fds=fds, **own)
    finally:
        for fd in fds:
            os.close(fd)


def run(quick: bool = False) -> list[dict]:
    n = 20 if quick else 100
    level = isolation().level  # probe once, outside the timed loop
    flags = ["-E", "-s", "-B", "-S"]  # referees/sandbox/execution.py run_python, without site-packages
    loop = asyncio.new_event_loop()  # one running loop, as in a tournament
    sandboxed_run = lambda: _check(loop.run_until_complete(run_python("pass")))
    sandboxed_run()  # warm caches (imports, page cache) for every side
    run_python_sync("pass")
    _unisolated(flags)
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    sandboxed, sync, same, full = [], [], [], []
    for _ in range(n):  # interleaved, so load drifts hit every side alike
        sandboxed.append(_timed(sandboxed_run))
        sync.append(_timed(lambda: _check(run_python_sync("pass"))))
        same.append(_timed(lambda: _unisolated(flags)))
        full.append(_timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)))
    loop.close()
    value, reference = sum(sandboxed) / n, sum(same) / n
    ratio = value / reference
    floor, options = _namespace_floor(n) if level == "bubblewrap" else (None, None)
    note = (f"isolation {level}; `pass` as main.py in a fresh scratch dir under `python {' '.join(flags)}` and the "
            f"sandbox's clean environment, sandboxed (awaited in one event loop) vs not, {n} interleaved runs each "
            f"(mean); run_python_sync took {sum(sync) / n * 1000:.1f} ms, a full interpreter's `python -c pass` "
            f"{sum(full) / n * 1000:.1f} ms"
            + (f"; bubblewrap's namespace set-up alone {floor * 1000:.1f} ms, so the floor is "
               f"{(reference + floor) / reference:.2f}x and the sandbox {value / (reference + floor):.2f}x of it "
               f"(context: bubblewrap with the sandbox's own options {options * 1000:.1f} ms)"
               if floor is not None else "")
            + f"; load {os.getloadavg()[0]:.1f}")
    if floor is None:
        target, met = TARGET_NO_BWRAP, ratio <= 1.5
    else:
        target, met = TARGET, value <= 1.25 * (reference + floor)
    return [figure(NAME, value, UNIT, reference, ratio, target, met, note, isolation=level, n=n,
                   full_interpreter_s=round(sum(full) / n, 5),
                   namespace_setup_s=None if floor is None else round(floor, 5),
                   same_options_setup_s=None if options is None else round(options, 5),
                   sync_wrapper_s=round(sum(sync) / n, 5),
                   over_floor=None if floor is None else round(value / (reference + floor), 3)),
            _loaded(value, quick)]


def loaded_child(n: int) -> dict:
    """In a process holding the embedded model: sandboxed runs through the helper and started from
    this process, and the unisolated interpreter, interleaved; mean seconds each."""
    from llama_cpp import Llama

    from players.local import N_CTX, default_gguf
    from referees.sandbox import spawner
    llm = Llama(model_path=str(default_gguf()), n_ctx=N_CTX, verbose=False)
    llm.create_chat_completion([{"role": "user", "content": "Hi"}], max_tokens=8, temperature=0.0)
    flags = ["-E", "-s", "-B", "-S"]
    loop = asyncio.new_event_loop()

    def sandboxed(helper: bool) -> None:
        spawner.use(helper)
        _check(loop.run_until_complete(run_python("pass")))

    sides = {"helper": lambda: sandboxed(True), "here": lambda: sandboxed(False), "same": lambda: _unisolated(flags)}
    for fn in sides.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in sides}
    for _ in range(n):
        for k, fn in sides.items():
            times[k].append(_timed(fn))
    loop.close()
    rss_kb = int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0])
    return {**{k: sum(v) / n for k, v in times.items()}, "rss_mb": rss_kb / 1024, "n": n}


def _loaded(small: float, quick: bool) -> dict:
    from bench.common import Unavailable, child, unavailable
    try:
        out = child("bench.sandbox_bench", "loaded", str(20 if quick else 100))
    except Unavailable as exc:
        return unavailable(LOADED, UNIT, LOADED_TARGET, str(exc))
    ratio = out["helper"] / small
    note = (f"`pass` sandboxed from a process holding the embedded model ({out['rss_mb']:.0f} MB resident), "
            f"{out['n']} interleaved runs each (mean): through the sandbox helper {out['helper'] * 1000:.1f} ms "
            f"(the default), started from that process itself {out['here'] * 1000:.1f} ms, the same interpreter "
            f"without isolation {out['same'] * 1000:.1f} ms; reference = the sandboxed run from the small bench "
            f"process above ({small * 1000:.1f} ms); load {os.getloadavg()[0]:.1f}")
    return figure(LOADED, out["helper"], UNIT, small, ratio, LOADED_TARGET, ratio <= 1.1, note,
                  started_here_s=round(out["here"], 5), unisolated_s=round(out["same"], 5),
                  caller_rss_mb=round(out["rss_mb"]))


def _check(result) -> None:
    if result.status != "ok":
        raise RuntimeError(f"sandboxed `pass` failed: {result}")


if __name__ == "__main__":
    import json

    if sys.argv[1:2] == ["loaded"]:
        from bench.common import emit
        emit(loaded_child(int(sys.argv[2])))
    else:
        print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
