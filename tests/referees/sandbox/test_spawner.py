"""The sandbox helper (referees/sandbox/spawner.py): the small process that starts the programs.

Every other sandbox test runs through it too (it is the default); these show what is its own: it
holds none of the caller's secrets, a run it loses fails instead of becoming a verdict, cancelled
and orphaned programs die, and one helper serves every thread and event loop."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from referees.sandbox import SandboxError, run_python, run_python_sync, spawner
from tests.referees.sandbox.test_sandbox import live_with, marker

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the helper is used on Linux")
SLEEPER = "import time\nprint('started', flush=True)\ntime.sleep(60)"


def helper_pid() -> int:
    proc = spawner._HELPER.proc
    assert proc is not None and proc.poll() is None, "no helper is running"
    return proc.pid


async def started(mark: str) -> asyncio.Task:
    """A sleeping program's run, once its program is running."""
    run = asyncio.ensure_future(run_python(SLEEPER, argv=[mark], timeout_s=30))
    for _ in range(200):
        if live_with(mark):
            return run
        await asyncio.sleep(0.02)
    raise AssertionError("the program never started")


def gone(pids: list[int] | None = None, mark: str | None = None, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [p for p in pids or [] if Path(f"/proc/{p}").exists()
                 and Path(f"/proc/{p}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"]
        if not alive and not (mark and live_with(mark)):
            return True
        time.sleep(0.05)
    return False


def test_the_helper_is_started_without_the_callers_secrets(monkeypatch):
    spawner._HELPER.close()  # the next run starts a helper from this environment
    monkeypatch.setenv("OPENAI_API_KEY", "sk-helper-must-not-see-this")
    assert run_python_sync("print(1)").status == "ok"
    pid = helper_pid()
    assert os.getppid() != pid and Path(f"/proc/{pid}/status").exists()
    assert b"sk-helper-must-not-see-this" not in Path(f"/proc/{pid}/environ").read_bytes()
    assert b"referees.sandbox.spawner" in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_in_process_and_helper_runs_agree():
    code = "import sys\nprint(sys.flags.isolated, sys.flags.no_site, sum(range(10)))\nsys.exit(3)"
    through_helper = run_python_sync(code)
    spawner.use(False)
    try:
        here = run_python_sync(code)
    finally:
        spawner.use(True)
    assert (through_helper.status, through_helper.exit_code, through_helper.stdout, through_helper.isolation) == \
        (here.status, here.exit_code, here.stdout, here.isolation) == ("error", 3, "0 1 45\n", here.isolation)


def test_a_cancelled_run_kills_its_program():
    mark = marker()

    async def scenario() -> None:
        run = await started(mark)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(scenario())
    assert gone(mark=mark)
    assert run_python_sync("print('next')").stdout == "next\n"


def test_a_run_cancelled_as_its_program_starts_ends_at_once_in_process_too():
    """test_sandbox.py's test goes through the helper (the default); the same from this process."""
    from tests.referees.sandbox.test_sandbox import (
        test_a_run_cancelled_as_its_program_starts_ends_at_once as same,
    )
    spawner.use(False)
    try:
        same()
    finally:
        spawner.use(True)


def test_a_run_whose_helper_dies_fails_and_the_next_run_gets_a_new_helper():
    mark = marker()
    run_python_sync("pass")
    first = helper_pid()

    async def scenario() -> None:
        run = await started(mark)
        os.kill(first, signal.SIGKILL)
        with pytest.raises(SandboxError, match="helper exited"):  # a host failure, never a verdict
            await asyncio.wait_for(run, 10)

    asyncio.run(scenario())
    assert gone([first], mark=mark)  # its program died with it
    assert run_python_sync("print('again')").stdout == "again\n"
    assert helper_pid() != first


def test_one_helper_serves_every_thread_and_event_loop():
    run_python_sync("pass")
    pid = helper_pid()
    results: list = []

    def worker(i: int) -> None:
        results.append(run_python_sync(f"print({i} * 2)"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.stdout for r in results) == sorted(f"{i * 2}\n" for i in range(6))
    assert all(r.status == "ok" for r in results) and helper_pid() == pid


def test_the_helper_and_its_programs_end_with_the_caller(tmp_path):
    """However the caller dies (here SIGKILL, no clean-up), its helper and the programs go too."""
    mark = marker()
    script = textwrap.dedent(f"""
        import asyncio, sys, time
        from referees.sandbox import run_python, spawner
        async def main():
            run = asyncio.ensure_future(run_python({SLEEPER!r}, argv=[{mark!r}], timeout_s=60))
            await asyncio.sleep(0)
            while spawner._HELPER.proc is None:
                await asyncio.sleep(0.01)
            print(spawner._HELPER.proc.pid, flush=True)
            await run
        asyncio.run(main())
    """)
    caller = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=str(tmp_path),
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])})
    try:
        helper = int(caller.stdout.readline())  # type: ignore[union-attr]
        deadline = time.monotonic() + 10
        while not live_with(mark) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert live_with(mark), "the program never started"
        caller.kill()
        caller.wait(5)
        assert gone([helper], mark=mark)
    finally:
        caller.kill()
