"""Side doors out of the sandbox: each test is a hostile program trying one, at every level that works here."""
from __future__ import annotations

import ctypes
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from referees.sandbox import confinement, isolation, policy, run_python_sync


def _mark() -> str:
    return f"arena-sbx-door-{uuid.uuid4().hex[:12]}"


CONNECT = """
import socket, sys
for path in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path.replace('@', '\\0', 1))
        s.sendall(b'pwned')
        print('CONNECTED', path)
    except OSError as e:
        print('blocked', path, e)
"""


def test_host_unix_sockets_are_unreachable(level):
    mark = _mark()
    paths, listeners = [], []
    for d in ("/var/tmp", "/run", "/dev/shm"):
        if os.path.isdir(d) and os.access(d, os.W_OK):
            paths.append(f"{d}/{mark}.sock")
    paths.append(f"@{mark}")  # abstract namespace
    try:
        for p in paths:
            s = socket.socket(socket.AF_UNIX)
            s.bind(p.replace("@", "\0", 1))
            if not p.startswith("@"):
                os.chmod(p, 0o777)
            s.listen()
            s.settimeout(0.1)
            listeners.append(s)
        r = run_python_sync(CONNECT, argv=paths, timeout_s=8)
        assert "CONNECTED" not in r.stdout, r
        for s in listeners:
            with pytest.raises(socket.timeout):
                s.accept()
    finally:
        for s in listeners:
            s.close()
        for p in paths:
            if not p.startswith("@") and os.path.exists(p):
                os.unlink(p)


def test_dev_log_and_run_are_not_the_hosts(level):
    if not level.private_fs:
        pytest.skip("needs the private view")
    r = run_python_sync("import os\nls = lambda d: sorted(os.listdir(d)) if os.path.isdir(d) else []\n"
                        "print((ls('/run'), ls('/var/tmp'), os.path.exists('/dev/log'), ls('/dev')))")
    assert r.status == "ok", r
    run, var_tmp, dev_log, dev = eval(r.stdout)
    assert run == [] and var_tmp == [] and dev_log is False
    assert {"null", "zero", "urandom"} <= set(dev) and "mem" not in dev and "kmsg" not in dev


_KEYCTL, _ADD_KEY = 250, 248  # x86_64


def _add_session_key(payload: bytes) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    key = libc.syscall(_ADD_KEY, b"user", b"arena-sbx-test", payload, ctypes.c_size_t(len(payload)),
                       ctypes.c_int(-3))  # KEY_SPEC_SESSION_KEYRING
    if key < 0:
        pytest.skip(f"no keyring here: {os.strerror(ctypes.get_errno())}")
    libc.syscall(_KEYCTL, 5, ctypes.c_long(key), ctypes.c_uint(0x3F3F3F3F))  # KEYCTL_SETPERM: all may read
    return key


READ_KEY = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
buf = ctypes.create_string_buffer(256)
n = libc.syscall(250, 11, ctypes.c_long(int(sys.argv[1])), buf, ctypes.c_size_t(256))  # KEYCTL_READ
print('READ', buf.raw[:n]) if n > 0 else print('denied', ctypes.get_errno())
found = libc.syscall(250, 10, ctypes.c_long(-3), b'user', b'arena-sbx-test', ctypes.c_long(0))  # KEYCTL_SEARCH
print('FOUND') if found > 0 else print('not found', ctypes.get_errno())
"""


@pytest.mark.skipif(not hasattr(os, "getuid") or os.uname().machine != "x86_64", reason="x86_64 syscall numbers")
def test_callers_session_keyring_is_out_of_reach(level):
    secret = f"key-{uuid.uuid4().hex}".encode()
    key = _add_session_key(secret)
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        r = run_python_sync(READ_KEY, argv=[str(key)])
        assert secret.decode() not in r.stdout and "FOUND" not in r.stdout, r
    finally:
        libc.syscall(_KEYCTL, 21, ctypes.c_long(key))  # KEYCTL_INVALIDATE


@pytest.mark.parametrize("parent", ["/var/lib", "/srv", "/opt", "/mnt"])
def test_run_directory_outside_the_covered_paths_is_invisible(parent, level):
    if not level.private_fs:
        pytest.skip("needs the private view")
    if not os.access(parent, os.W_OK):
        pytest.skip(f"{parent} not writable here")
    run_dir = Path(parent) / _mark()
    try:
        run_dir.mkdir(mode=0o755)
        store = run_dir / "arena.sqlite"
        store.write_text("SECRET-STORE-CONTENT")
        store.chmod(0o644)
        r = run_python_sync("import sys, os\ntry:\n    print(open(sys.argv[1]).read())\nexcept OSError as e:\n"
                            "    print('denied', e.errno)\nprint(os.path.exists(sys.argv[2]))",
                            argv=[str(store), str(run_dir)])
        assert r.status == "ok", r
        assert "SECRET-STORE-CONTENT" not in r.stdout and r.stdout.endswith("False\n"), r
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


USERNS = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) == 0:  # CLONE_NEWUSER
    print('NEW USERNS', open('/proc/self/status').read().split('CapEff:')[1].split()[0])
else:
    print('denied', ctypes.get_errno())
pid = os.fork() if hasattr(os, 'fork') else 0
"""


def test_no_nested_user_namespace(level):
    r = run_python_sync(USERNS)
    assert "NEW USERNS" not in r.stdout, r
    r = run_python_sync("import subprocess\nprint(subprocess.run(['unshare', '-U', '-r', 'id'], "
                        "capture_output=True, text=True))")
    assert "uid=0(root)" not in r.stdout, r


FORK_HOG = """
import os, sys, time
n, mb = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    if os.fork() == 0:
        block = bytearray(mb << 20)  # touched: zero-filled pages are really allocated
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(4)
        os._exit(0)
for _ in range(n):
    os.wait()
print('survived')
"""


def test_memory_limit_holds_for_the_whole_run(level):
    if level.audit_hook:
        pytest.skip("fork is refused at this level")
    # each child stays under the per-process limit; together they hold ~6x it
    r = run_python_sync(FORK_HOG, argv=["6", "70"], memory_mb=96, timeout_s=10)
    assert r.status == "memory" and "survived" not in r.stdout, r


ENVIRON = """
import os
for pid in {os.getppid(), 1, *[int(p) for p in os.listdir('/proc') if p.isdigit()]}:
    try:
        print(open(f'/proc/{pid}/environ', 'rb').read())
    except OSError as e:
        print('denied', pid, e.errno)
"""


def test_parent_environment_is_out_of_reach(level):
    # the key must be in the caller's initial environment (what /proc shows), as when arena starts with it
    driver = ("import sys\nfrom referees.sandbox import allow_weak_sandbox, confinement, run_python_sync\n"
              "confinement._ISOLATION = confinement._LEVELS[sys.argv[1]]\nallow_weak_sandbox(True)\n"
              "print(run_python_sync(sys.argv[2], timeout_s=8).stdout)")
    env = {**os.environ, "ARENA_SBX_PARENT_SECRET": "pArEnT-s3cret"}
    out = subprocess.run([sys.executable, "-c", driver, level.level, ENVIRON], env=env, capture_output=True, check=False,
                         text=True, timeout=30)
    assert out.returncode == 0 and "denied" in out.stdout or "b'" in out.stdout, out
    assert "pArEnT-s3cret" not in out.stdout, out.stdout


def test_weak_level_refuses_model_code_unless_the_config_allows_it(monkeypatch, caplog, tmp_path):
    from arena.config import load_config
    from referees.sandbox import WeakSandbox, allow_weak_sandbox

    monkeypatch.setattr(confinement, "_ISOLATION", confinement._LEVELS["basic"])
    monkeypatch.setattr(policy, "_ALLOW_WEAK", False)
    monkeypatch.setattr(policy, "_WARNED", set())
    with pytest.raises(WeakSandbox, match="allow_weak_sandbox = true"):
        run_python_sync("print('model code')")
    cfg = tmp_path / "arena.toml"
    cfg.write_text("[tournament]\nallow_weak_sandbox = true\n")
    allow_weak_sandbox(load_config(cfg).allow_weak_sandbox)
    with caplog.at_level("WARNING", logger="arena.sandbox"):
        r = run_python_sync("print('model code')")
    assert r.status == "ok" and r.isolation == "basic"
    assert "WEAK SANDBOX" in caplog.text and "'basic'" in caplog.text
    assert load_config(None).allow_weak_sandbox is False
    # the strong level needs no permission
    monkeypatch.setattr(confinement, "_ISOLATION", None)
    allow_weak_sandbox(False)
    if isolation().level not in policy.WEAK_LEVELS:
        assert run_python_sync("print(1)").status == "ok"


@pytest.mark.parametrize("program", ["python", "node"])
def test_the_callers_mounts_are_untouched(level, program):
    """Every level builds its view in a namespace of its own: the caller's mounts never change (a view
    built in the caller's namespace once covered the host's /tmp, /dev and /proc)."""
    if program == "node" and shutil.which("node") is None:
        pytest.skip("node not installed")
    before = Path("/proc/self/mountinfo").read_text()
    if program == "node":
        from referees.sandbox import run_javascript_sync
        r = run_javascript_sync("console.log('hi')")
    else:
        r = run_python_sync("print('hi')")
    assert r.status == "ok" and r.stdout == "hi\n", r
    assert Path("/proc/self/mountinfo").read_text() == before


def test_a_match_that_runs_code_records_the_sandbox_level():
    from tests.tournaments.families.test_predict_output import (
        ALIASING,
        make_ctx,
        play,
        script,
    )

    variants = [script("a1", ALIASING), script("a2", "no program here", "still nothing"),
                script("p1", "```\n4 4\nTrue\n```"), script("p2", "Output: 3 3\nFalse")]
    result = play(make_ctx(variants))
    assert result.details["sandbox"] == isolation().level


MEMFD_HOG = """
import os
fds = []
for _ in range(6):
    fd = os.memfd_create('hog')
    for _ in range(50):
        os.write(fd, b'x' * (1 << 20))
    fds.append(fd)
print('HELD 300 MB')
"""


def test_memory_no_process_maps_is_not_a_way_around_the_limit(level):
    if level.audit_hook:
        pytest.skip("seccomp is not the guard tested here")
    r = run_python_sync(MEMFD_HOG, memory_mb=96, timeout_s=10)
    assert "HELD" not in r.stdout, r
