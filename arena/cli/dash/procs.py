"""The dashboard's processes: it launches `arena run` and `arena loop` as processes of their own
(a session of their own, so quitting the dashboard or a Ctrl-C in it leaves them running), stops
them as Ctrl-C does (SIGINT), and runs the short commands (compare, export) it shows the output of."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from arena.cli.dash.progress import read_live

LOG_NAME = "arena-dash.log"  # a launched process's output, in its run directory


def arena_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "arena.cli", *args]


def child_env() -> dict[str, str]:
    """The child imports the very arena this dashboard runs (its source tree first on the path),
    whatever its working directory."""
    import arena
    source = str(Path(arena.__file__).resolve().parent.parent)
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])))


def launch(run_dir: str | Path, *args: str) -> subprocess.Popen:
    """`arena ARGS` in the background, in run_dir, its output appended to the run's log."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    log = open(run_dir / LOG_NAME, "ab")
    try:
        return subprocess.Popen(arena_argv(*args), cwd=run_dir, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, env=child_env())
    finally:
        log.close()  # the child has its own copy


def stop(run_dir: str | Path) -> str:
    """A clean stop of the run writing run_dir (SIGINT, as Ctrl-C): what happened, in a line."""
    from arena.cli.dash.data import is_running
    live = read_live(run_dir)
    if not live or not live.get("running") or not is_running(run_dir):
        return "no run is playing there"
    try:
        os.kill(int(live["pid"]), signal.SIGINT)
    except (ProcessLookupError, PermissionError, ValueError):
        return "the run has already ended"
    return f"asked the run (process {live['pid']}) to stop; finished matches are kept"


def output_of(*args: str, cwd: str | Path | None = None, timeout: float = 300) -> tuple[int, str]:
    """`arena ARGS` to completion: (exit code, what it printed, stdout then stderr)."""
    done = subprocess.run(arena_argv(*args), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, errors="replace", env=child_env())
    return done.returncode, (done.stdout + done.stderr).strip()
