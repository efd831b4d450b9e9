"""Run model-written (hostile) programs: one throwaway, limited, offline process tree per run.

Every run gets a clean environment (nothing from os.environ, so no API keys), a fresh scratch dir as
cwd/HOME/TMPDIR, rlimits (CPU, address space, processes, file size, no core dumps), its own session,
a wall-clock timeout and an output cap enforced by the parent, and always ends with its process group
SIGKILLed. Python runs as `python -E -s -S -B`: that is `-I` minus "safe path" (modules passed in
`files=` must import from scratch), and `-S` means model code gets the stdlib only (no site-packages;
`site_packages=True` to opt in), which also makes startup ~4x cheaper than a bare `python -c pass`.

What the kernel enforces depends on the host; `isolation()` probes once and caches the best level:

- "bubblewrap" (bwrap installed and user namespaces allowed; preferred, a maintained boundary): see
  referees/sandbox/bubblewrap.py. The view is built from nothing (system dirs, the interpreter,
  scratch), so stores, run directories, home, /run and /var are absent; fresh /dev, /proc, /tmp;
  all namespaces, no capabilities, no nested user namespaces. As root the program is also its own uid.
- "namespaces" (root, own code, the fallback): new net, mount, IPC and PID namespaces, made with
  ctypes `unshare` in `preexec_fn`. A supervisor (a fork, no exec) waits for the program, which is
  PID 1 of its namespace: when it exits or the supervisor dies (PDEATHSIG), the kernel kills every
  process in the namespace, so nothing leaks, not even after setsid(). Network: only a downed
  loopback; connect() fails at once (ENETUNREACH). Files: every mount is read-only in the private
  view; every top-level dir but the system ones (/usr, /etc, /lib...) is covered by an empty tmpfs
  (so /var, /run, /srv, /opt, /mnt, /home and wherever a run directory lives are empty), as are the
  caller's home, cwd and this checkout (HIDDEN_PATHS); /dev is fresh (null, zero, full, random,
  urandom); /tmp and /dev/shm are fresh size-capped tmpfs; scratch is /tmp/sandbox and vanishes with
  the namespace; /proc shows only the run. The program runs as its own uid (UID_BASE + supervisor
  pid: runs cannot signal or ptrace each other and RLIMIT_NPROC counts this run only) with
  no_new_privs; the interpreter is bind-mounted back when it sits under a dir that uid cannot enter.
- "uid" (root without CAP_SYS_ADMIN, e.g. plain docker): own uid + no_new_privs, scratch on the host
  (0700), leftovers killed by a /proc scan for that uid (a process that makes itself non-dumpable can
  hide from it). World-writable dirs (/tmp, /var/tmp) stay writable. Network: the audit hook below.
- "userns" (non-root with unprivileged user namespaces, no bwrap): net, IPC and PID namespaces as
  above; files are guarded only by the caller's own permissions, RLIMIT_NPROC is not set (it would be
  per user), and the caller is made non-dumpable so its /proc/<pid>/environ stays unreadable.
- "basic": rlimits, clean env, process-group kill, the caller non-dumpable. Python gets
  `sys.addaudithook` refusing socket connect/bind/send/DNS, ctypes, fork, exec and other processes'
  /proc. Much weaker: audit hooks are a speed bump that can be bypassed from inside CPython, other
  languages are not covered, and setsid() escapees are not killed.

At every level: a seccomp filter (referees/sandbox/syscalls.py) refuses unix sockets, io_uring,
the kernel keyrings and new user namespaces, and the program starts in a fresh, empty session
keyring; the memory limit holds for the whole process tree, not only per process
(referees/sandbox/accounting.py; a run over it ends as "memory"). Levels below "namespaces" run
model code only when the config says `allow_weak_sandbox = true`, with a loud warning
(referees/sandbox/policy.py); otherwise `WeakSandbox` is raised.

`SandboxResult.isolation` names the level used; `PROBE_LOG` says why stronger ones were rejected.
Host-side failures raise `SandboxError`; everything the program does becomes a verdict.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

from referees.sandbox import accounting, bubblewrap, remote, spawner
from referees.sandbox.confinement import (  # noqa: F401
    _NEWPID,
    PROBE_LOG,
    UID_BASE,
    Isolation,
    SandboxError,
    _Plan,
    _preexec,
    _prepare,
    _python_argv,
    isolation,
    shield_caller,
)
from referees.sandbox.policy import check_level

STATUSES = ("ok", "error", "timeout", "memory", "output-limit", "killed")
MAX_CONCURRENCY = os.cpu_count() or 1  # per event loop; limit_concurrency=False bypasses it
STDERR_TAIL_BYTES = 64 * 1024
_MEMORY_MARKERS = ("memoryerror", "out of memory", "cannot allocate memory", "fatal process oom")
_SEMAPHORES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop -> asyncio.Semaphore
_LOCK = threading.Lock()


@dataclasses.dataclass
class SandboxResult:
    status: str  # one of STATUSES
    exit_code: int | None
    stdout: str
    stderr: str  # the tail only, when long
    duration_s: float
    signal: int | None = None
    isolation: str = ""
    node: str | None = None  # the Ray node it ran on (referees/sandbox/remote.py); None: this machine

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        if out["node"] is None:
            del out["node"]
        return out


def _killpg(pgid: int) -> None:
    if pgid > 0:  # killpg(0) would hit our own group
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _sweep_uid(uid: int) -> None:
    """Level "uid": kill processes of the run's uid that left its process group."""
    for _ in range(10):
        alive = False
        for name in os.listdir("/proc"):
            try:
                if name.isdigit() and os.stat(f"/proc/{name}").st_uid == uid:
                    os.kill(int(name), signal.SIGKILL)
                    alive |= _state(int(name)) not in (None, b"Z")
            except OSError:
                pass
        if not alive:
            return


def _state(pid: int) -> bytes | None:
    """The process's state letter in /proc (b"R", b"S", b"T", b"Z", ...); None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _stopped(pid: int) -> bool:
    """Whether `pid` is stopped, or no longer runs at all."""
    return _state(pid) in (None, b"T", b"t", b"Z", b"X")


def _end_namespace(bwrap_pid: int) -> None:
    """Kill bwrap's child, PID 1 of the run's PID namespace, whose death ends everything inside. It
    leaves bwrap's process group (setsid) and starts the program before it sets PR_SET_PDEATHSIG, so
    bwrap killed in between left the program running. bwrap is stopped first, so that it starts no
    child after its tree is read."""
    try:
        os.kill(bwrap_pid, signal.SIGSTOP)
    except OSError:
        return
    deadline = time.monotonic() + 0.5  # a stop is delivered at once, unless bwrap is in the kernel
    while not _stopped(bwrap_pid) and time.monotonic() < deadline:
        time.sleep(0.0002)
    for child in accounting.tree(bwrap_pid)[1:]:
        try:
            os.kill(child, signal.SIGKILL)
        except OSError:
            pass


def _end(plan: _Plan, pid: int, still_running: bool) -> None:
    """Kill the run's process group. Under bubblewrap, when the run is killed while running, first its
    PID namespace (_end_namespace). Where the run has a uid of its own and no PID namespace of ours
    reaps its tree, also every process of that uid: at level "uid" always, under bubblewrap when the
    run is killed while running."""
    if plan.iso.bwrap and still_running:
        _end_namespace(pid)
    _killpg(pid)
    if plan.iso.drop_uid and not plan.iso.unshare_flags & _NEWPID and (still_running or not plan.iso.bwrap):
        _sweep_uid(UID_BASE + pid)


class _Collector(asyncio.SubprocessProtocol):
    """Keeps output within the limits; `exited` fires at process exit even while pipes stay open
    (3.11's Process.wait() would also wait for the pipes, which a backgrounded child can hold)."""

    def __init__(self, limit: int) -> None:
        loop = asyncio.get_running_loop()
        self.exited, self.closed = loop.create_future(), loop.create_future()
        self.out, self.err, self.counts = bytearray(), bytearray(), {1: 0, 2: 0}
        self.limit, self.over, self.pgid = limit, False, 0
        self.memory_over = False  # the run's process tree passed the memory limit

    def connection_made(self, transport) -> None:
        self.pgid = transport.get_pid()  # its own session, so pid == process group id

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.counts[fd] += len(data)
        if fd == 1:
            self.out += data[: max(0, self.limit - len(self.out))]
        else:
            self.err += data
            del self.err[:-STDERR_TAIL_BYTES]
        if not self.over and self.counts[1] + self.counts[2] > self.limit:
            self.over = True
            _killpg(self.pgid)

    def process_exited(self) -> None:
        self.exited.done() or self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.done() or self.closed.set_result(None)


async def _watch_memory(plan: _Plan, pid: int, proto: _Collector) -> None:
    """Kill the run once its whole process tree holds more than memory_mb (see accounting)."""
    limit, delay = plan.memory_mb << 20, 0.01
    while True:
        await asyncio.sleep(delay)
        delay = min(0.05, delay * 2)  # most runs end within the first polls
        pids = accounting.tree(pid)
        if plan.iso.unshare_flags & _NEWPID:
            pids = pids[1:]  # the supervisor is a copy of the caller, not the program
        if accounting.used_bytes(pids) > limit:
            proto.memory_over = True
            _killpg(pid)
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            return


def _verdict(rc: int | None, timed_out: bool, over: bool, stderr: str, memory_over: bool = False) -> str:
    if over:
        return "output-limit"
    if memory_over:
        return "memory"
    if timed_out or rc == -signal.SIGXCPU:
        return "timeout"
    if rc == 0:
        return "ok"
    if any(m in stderr.lower() for m in _MEMORY_MARKERS):
        return "memory"
    return "killed" if rc is None or rc < 0 else "error"


async def _execute(plan: _Plan, argv: list[str], env: dict[str, str], cwd: str | None, stdin: str,
                   max_output: int) -> SandboxResult:
    loop, proto = asyncio.get_running_loop(), _Collector(max_output)
    # stdin is a file, not a pipe (feeding it can never block us), made only when there is some
    with tempfile.TemporaryFile() if stdin else contextlib.nullcontext(subprocess.DEVNULL) as stdin_file:
        if stdin:
            stdin_file.write(stdin.encode())
            stdin_file.seek(0)
        start = time.monotonic()
        starting = asyncio.ensure_future(loop.subprocess_exec(
            lambda: proto, *argv, stdin=stdin_file, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, cwd=cwd, start_new_session=True, preexec_fn=_preexec(plan),
            pass_fds=plan.fds))
        try:
            try:
                transport, _ = await asyncio.shield(starting)
            except asyncio.CancelledError:
                # Cancelled while the program starts: asyncio's own clean-up of a cancelled start can
                # wait for ever with the program running, so let the start finish, then end it.
                transport, _ = await starting
                _end(plan, transport.get_pid(), still_running=True)
                transport.close()
                raise
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxError(f"cannot start {argv[0]!r} at isolation level {plan.iso.level}: {exc}") from exc
        finally:
            for fd in plan.fds:
                os.close(fd)
    pid, timed_out = transport.get_pid(), False
    watcher = asyncio.ensure_future(_watch_memory(plan, pid, proto))
    try:
        try:
            try:
                await asyncio.wait_for(asyncio.shield(proto.exited), plan.timeout_s)
            except asyncio.TimeoutError:
                timed_out = True
            duration = time.monotonic() - start
        finally:  # always, also when cancelled: kill whatever the program left running
            watcher.cancel()
            _end(plan, pid, still_running=not proto.exited.done())
    except BaseException:  # cancelled: no verdict, but release the pipes too. Only now: closing the
        transport.close()  # transport kills the process, so before _end its tree would be lost
        raise
    await asyncio.wait([proto.exited], timeout=5)  # SIGKILL is prompt, but never hang on a D-state process
    await asyncio.wait([proto.closed], timeout=2)  # drain what is left in the pipes
    rc = transport.get_returncode()
    if plan.iso.bwrap:
        rc = bubblewrap.exit_code(rc)
    transport.close()
    stderr = proto.err.decode("utf-8", "replace")
    if proto.counts[2] > len(proto.err):
        stderr = f"[... {proto.counts[2] - len(proto.err)} bytes of stderr dropped ...]\n" + stderr
    return SandboxResult(_verdict(rc, timed_out, proto.over, stderr, proto.memory_over), rc if rc is not None and rc >= 0 else None,
                         proto.out.decode("utf-8", "replace"), stderr, round(duration, 4),
                         -rc if rc is not None and rc < 0 else None, plan.iso.level)


async def run_program(argv_in_scratch: list[str], files: dict[str, str] | None = None, *, stdin: str = "",
                      timeout_s: float = 10, cpu_s: float | None = None, memory_mb: int = 256,
                      max_output_bytes: int = 1_000_000, max_procs: int = 64, max_file_mb: int = 64,
                      scratch_mb: int = 256, env: dict[str, str] | None = None,
                      limit_concurrency: bool = True) -> SandboxResult:
    """Run argv sandboxed: argv[0] is an absolute path or a name on the host PATH, further paths are
    relative to scratch, where `files` are written first. cpu_s defaults to timeout_s; memory_mb is
    RLIMIT_AS; max_output_bytes counts stdout + stderr; scratch_mb sizes the private /tmp tmpfs; `env`
    adds variables to the clean environment (nothing is ever inherited from os.environ).
    With the sandbox on a Ray cluster (referees/sandbox/remote.py) the run happens on a worker; here,
    the sandbox helper (referees/sandbox/spawner.py) starts it, at the level this process found."""
    options = {"stdin": stdin, "timeout_s": timeout_s, "cpu_s": cpu_s, "memory_mb": memory_mb,
               "max_output_bytes": max_output_bytes, "max_procs": max_procs, "max_file_mb": max_file_mb,
               "scratch_mb": scratch_mb, "env": env, "limit_concurrency": limit_concurrency}
    if remote.active():
        return await remote.run("run_program", list(argv_in_scratch), files, **options)
    iso = isolation()
    check_level(iso)
    if spawner.wanted():
        shield_caller(iso)  # the helper shields itself; this process holds the keys
        return await spawner.run(iso.level, list(argv_in_scratch), files, options)
    return await run_here(iso, list(argv_in_scratch), files, **options)


async def run_here(iso: Isolation, argv_in_scratch: list[str], files: dict[str, str] | None, *, stdin: str,
                   timeout_s: float, cpu_s: float | None, memory_mb: int, max_output_bytes: int, max_procs: int,
                   max_file_mb: int, scratch_mb: int, env: dict[str, str] | None,
                   limit_concurrency: bool) -> SandboxResult:
    """run_program in this process, at level `iso` (already checked against the policy)."""
    plan = _Plan(iso, dict(files or {}), timeout_s, cpu_s or timeout_s, memory_mb, max_procs, max_file_mb,
                 scratch_mb)
    shield_caller(iso)  # whoever starts the program: at a weak level it must not reach into us
    if limit_concurrency:
        loop = asyncio.get_running_loop()
        with _LOCK:  # asyncio primitives bind to one loop, so one semaphore per loop
            sem = _SEMAPHORES.setdefault(loop, asyncio.Semaphore(MAX_CONCURRENCY))
        await sem.acquire()  # bounded in effect: every holder finishes within its own limits
    try:
        argv, base_env, cwd = _prepare(plan, argv_in_scratch)
        try:
            return await _execute(plan, argv, {**base_env, **(env or {})}, cwd, stdin, max_output_bytes)
        finally:
            if plan.host_scratch:
                shutil.rmtree(plan.host_scratch, ignore_errors=True)
    finally:
        if limit_concurrency:
            sem.release()


async def run_python(code: str, *, stdin: str = "", timeout_s: float = 10, memory_mb: int = 256,
                     max_output_bytes: int = 1_000_000, files: dict[str, str] | None = None,
                     argv: list[str] | None = None, site_packages: bool = False, **limits) -> SandboxResult:
    """Run `code` as scratch/main.py, `files` beside it (importable); `limits` go to run_program."""
    if remote.active():  # the interpreter and its boot code are the worker's
        return await remote.run("run_python", code, stdin=stdin, timeout_s=timeout_s, memory_mb=memory_mb,
                                max_output_bytes=max_output_bytes, files=files, argv=argv,
                                site_packages=site_packages, **limits)
    if files and "main.py" in files:
        raise ValueError("main.py is reserved for `code`")
    flags = ["-E", "-s", "-B"] + ([] if site_packages else ["-S"])
    return await run_program(_python_argv(isolation(), flags, argv or []), {**(files or {}), "main.py": code},
                             stdin=stdin, timeout_s=timeout_s, memory_mb=memory_mb,
                             max_output_bytes=max_output_bytes, **limits)


async def run_javascript(code: str, *, stdin: str = "", timeout_s: float = 10, memory_mb: int = 256,
                         max_output_bytes: int = 1_000_000, files: dict[str, str] | None = None,
                         argv: list[str] | None = None, **limits) -> SandboxResult:
    """Run `code` with node as scratch/main.js. V8 reserves ~1 GB of address space up front, so the JS
    heap is capped at memory_mb and RLIMIT_AS at memory_mb + 1024. No audit hook exists for node."""
    if remote.active():
        return await remote.run("run_javascript", code, stdin=stdin, timeout_s=timeout_s, memory_mb=memory_mb,
                                max_output_bytes=max_output_bytes, files=files, argv=argv, **limits)
    node = shutil.which("node")
    if node is None:
        raise SandboxError("node is not installed")
    return await run_program([node, f"--max-old-space-size={memory_mb}", "main.js", *(argv or [])],
                             {**(files or {}), "main.js": code}, stdin=stdin, timeout_s=timeout_s,
                             memory_mb=memory_mb + 1024, max_output_bytes=max_output_bytes, **limits)


def _sync(coro):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:  # called from inside a running loop: use a fresh loop elsewhere
        return pool.submit(asyncio.run, coro).result()


def run_python_sync(code: str, **kwargs) -> SandboxResult:
    """Blocking `run_python`; works with or without a running event loop."""
    return _sync(run_python(code, **kwargs))


def run_javascript_sync(code: str, **kwargs) -> SandboxResult:
    return _sync(run_javascript(code, **kwargs))
