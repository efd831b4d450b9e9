"""The run's rlimits, as the program itself finds them, and a file-size limit biting, at every level that
works here; and stdin as the program sees it with and without input."""
from __future__ import annotations

import time


from referees.sandbox import confinement, run_python_sync

LIMITS = "print(open('/proc/self/limits').read())"


def _limits(stdout: str) -> dict[str, tuple[str, str]]:
    rows = {}
    for line in stdout.splitlines()[1:]:
        name, rest = line[:26].strip(), line[26:].split()
        if name and len(rest) >= 2:
            rows[name] = (rest[0], rest[1])
    return rows


def test_the_program_runs_under_the_runs_limits(level):
    r = run_python_sync(LIMITS, timeout_s=7, cpu_s=3, memory_mb=200, max_file_mb=5, max_procs=20)
    assert r.status == "ok", r
    got = _limits(r.stdout)
    hard_cpu = "3" if level.unshare_flags & confinement._NEWPID else "4"  # PID 1 ignores SIGXCPU
    assert got["Max cpu time"] == ("3", hard_cpu)
    assert got["Max address space"] == (str(200 << 20),) * 2
    assert got["Max file size"] == (str(5 << 20),) * 2
    assert got["Max open files"] == ("256", "256")
    assert got["Max core file size"] == ("0", "0")
    if level.drop_uid:  # NPROC counts per uid: set only where the run has a uid of its own
        assert got["Max processes"] == ("20", "20")


def test_a_file_past_the_size_limit_is_refused(level):
    code = ("import os\ntry:\n    with open('big', 'wb') as f:\n        f.write(b'x' * (3 << 20))\n"
            "except OSError as e:\n    print('refused', e.errno)\nprint(os.path.getsize('big'))")
    r = run_python_sync(code, max_file_mb=1)
    assert r.status == "ok", r
    assert r.stdout.splitlines() == ["refused 27", str(1 << 20)]  # EFBIG, and nothing past the limit


def test_stdin_is_empty_without_input_and_holds_the_input_given():
    start = time.monotonic()
    r = run_python_sync("import sys\nprint(repr(sys.stdin.read()))")
    assert (r.status, r.stdout) == ("ok", "''\n") and time.monotonic() - start < 10
    r = run_python_sync("import sys\nprint(repr(sys.stdin.read()))", stdin="a\nb")
    assert (r.status, r.stdout) == ("ok", "'a\\nb'\n")
