"""How a sandboxed program is confined: isolation levels, the probe that picks the strongest one
this host allows, and the child-side setup (namespaces, private read-only view, own uid, rlimits).

referees/sandbox/execution.py runs programs under this and turns what they do into verdicts; its docstring
describes the levels.
"""
from __future__ import annotations

import ctypes
import dataclasses
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import PurePosixPath

from referees.sandbox import bubblewrap
from referees.sandbox.syscalls import Filter, compile_filter

UID_BASE = 1_000_000_000  # far above real users
NS_SCRATCH = "/tmp/sandbox"  # scratch as the program sees it at level "namespaces"
# Covered by an empty tmpfs at level "namespaces" (they may hold secrets such as .env files).
HIDDEN_PATHS: list[str] = [os.path.expanduser("~"), os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
try:
    HIDDEN_PATHS.append(os.getcwd())
except OSError:
    pass
_SYSTEM_DIRS = {"/", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/opt", "/var", "/proc", "/sys", "/dev",
                "/tmp", "/run"}  # never hidden wholesale
# At level "namespaces" every other top-level dir is covered too (/var, /run, /srv, /opt, /mnt, /home...):
# run directories and stores live there, and so do host sockets. Only what programs need stays.
_KEPT_TOP = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "proc", "sys", "dev", "tmp"}
_DEVICES = ("null", "zero", "full", "random", "urandom")  # all a fresh /dev offers
_NEWNS, _NEWIPC, _NEWUSER, _NEWPID, _NEWNET = 0x20000, 0x08000000, 0x10000000, 0x20000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS = 1, 4, 38

_libc = ctypes.CDLL(None, use_errno=True)  # loaded here: the child must not import or dlopen anything
if hasattr(_libc, "mount"):
    _libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


class SandboxError(RuntimeError):
    """The host could not run the program at all (not the program's fault)."""


@dataclasses.dataclass(frozen=True)
class Isolation:
    level: str
    unshare_flags: int  # namespaces the child creates
    private_fs: bool  # read-only mounts, private /tmp, /proc (mount namespace)
    drop_uid: bool  # own uid + RLIMIT_NPROC
    audit_hook: bool  # no network namespace: Python gets the refusing audit hook instead
    bwrap: bool = False  # bubblewrap builds the namespaces and the view (referees/sandbox/bubblewrap.py)


_LEVELS = {
    "bubblewrap": Isolation("bubblewrap", 0, True, os.geteuid() == 0, False, True),
    "namespaces": Isolation("namespaces", _NEWNET | _NEWNS | _NEWIPC | _NEWPID, True, True, False),
    "uid": Isolation("uid", 0, False, True, True),
    "userns": Isolation("userns", _NEWUSER | _NEWNET | _NEWIPC | _NEWPID, False, False, False),
    "basic": Isolation("basic", 0, False, False, True),
}
_ISOLATION: Isolation | None = None
_FILTER: list[Filter | None] = []  # compiled once, on first use
PROBE_LOG: list[str] = []
_LOCK, _FILTER_LOCK = threading.Lock(), threading.Lock()

# Runs main.py behind the audit hook at levels without a network namespace (Python only).
_BOOT = r"""
import sys
from os import fsdecode as _dec, getpid as _pid
from os.path import realpath as _real
def _deny(event, args, _bad=("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
        "socket.getaddrinfo", "socket.gethost", "socket.getnameinfo", "ctypes.", "subprocess.Popen",
        "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "pty.spawn"), _me=str(_pid())):
    if event.startswith(_bad):
        raise PermissionError(f"sandbox: {event} is not allowed")
    if event == "open" and isinstance(args[0], (str, bytes)):  # the caller's /proc/<pid>/environ holds keys
        parts = _real(_dec(args[0])).split("/")
        if parts[1:2] == ["proc"] and (len(parts) == 2 or parts[2].isdigit() and parts[2] != _me):
            raise PermissionError("sandbox: other processes are not readable")
sys.addaudithook(_deny)
sys.argv = sys.argv[1:]
with open(sys.argv[0], "rb") as _f:
    _code = compile(_f.read(), sys.argv[0], "exec")
del _deny, _f
exec(_code, {"__name__": "__main__", "__file__": sys.argv[0], "__builtins__": __builtins__})
"""


@dataclasses.dataclass
class _Plan:
    iso: Isolation
    files: dict[str, str]
    timeout_s: float
    cpu_s: float
    memory_mb: int
    max_procs: int
    max_file_mb: int
    scratch_mb: int
    host_scratch: str | None = None
    needed: list[str] = dataclasses.field(default_factory=list)  # dirs the program needs to start
    cover: list[str] = dataclasses.field(default_factory=list)  # dirs hidden under an empty tmpfs
    mountpoints: list[str] = dataclasses.field(default_factory=list)
    syscalls: Filter | None = None  # loaded last, just before exec
    fds: list[int] = dataclasses.field(default_factory=list)  # the child inherits these; closed after spawn


def _mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    if _libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _mountpoints() -> list[str]:
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        points = [line.split()[4] for line in f]
    for esc, ch in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        points = [p.replace(esc, ch) for p in points]
    return points


def _needed_paths(program: str) -> list[str]:
    paths = {os.path.dirname(os.path.realpath(program))}
    if os.path.realpath(program) == os.path.realpath(sys.executable):
        paths |= {sys.prefix, sys.base_prefix, os.path.dirname(sys.executable)}
    return sorted(paths, key=len)


def _covered_dirs(needed: list[str], hidden: bool = True) -> list[str]:
    """HIDDEN_PATHS and top-level dirs programs do not need (unless `hidden` is False), plus ancestors
    of `needed` the sandbox uid cannot traverse (pyenv under /root 0700)."""
    cover = []
    if hidden:
        cover = [os.path.realpath(h) for h in HIDDEN_PATHS if os.path.isdir(h)]
        cover = [c for c in cover if c not in _SYSTEM_DIRS]
        cover += [f"/{name}" for name in os.listdir("/") if name not in _KEPT_TOP
                  and os.path.isdir(f"/{name}") and not os.path.islink(f"/{name}")]
    for p in needed:
        parts = PurePosixPath(p).parts
        for i in range(2, len(parts)):
            anc = str(PurePosixPath(*parts[:i]))
            if not os.stat(anc).st_mode & 0o001:
                cover.append(anc)
                break
    cover = sorted(set(cover), key=len)
    return [c for i, c in enumerate(cover) if not any(c.startswith(o.rstrip("/") + "/") for o in cover[:i])]


def _write_files(root: str, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)


def _chown_tree(root: str, uid: int) -> None:
    os.chown(root, uid, uid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, uid)


def _cpu_of_zombie(proc_dir: str) -> float:
    """Exact CPU seconds of a dead, unreaped child (schedstat; rusage is tick-sampled and can lag by 30%)."""
    try:
        with open(f"{proc_dir}/stat", "rb") as f:
            if f.read().rsplit(b")", 1)[1].split()[0] != b"Z":
                return 0.0  # not our child: its /proc was never mounted
        with open(f"{proc_dir}/schedstat", "rb") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _supervise(child: int, cpu_soft: int, proc_dir: str) -> None:
    """In the supervisor: wait for the namespace's PID 1, then end the same way it did."""
    try:
        os.closerange(0, 1 << 20)  # the parent waits for EOF on the pipes: hold none of them
        os.waitid(os.P_PID, child, os.WEXITED | os.WNOWAIT)
        cpu = _cpu_of_zombie(proc_dir)
        _, status, ru = os.wait4(child, 0)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            # PID 1 ignores SIGXCPU, so its CPU limit is the hard one (SIGKILL): report it as SIGXCPU.
            # Only the kernel can SIGKILL PID 1 from here (limit or OOM); its limit clock is tick-sampled
            # and runs up to ~25% ahead of the exact time on a loaded host, hence the wide margin.
            if sig == signal.SIGKILL and max(cpu, ru.ru_utime + ru.ru_stime) >= cpu_soft * 0.5:
                sig = signal.SIGXCPU
            if sig != signal.SIGKILL:
                signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
        os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 255)
    finally:
        os._exit(255)


def _put_back(fds: dict[str, int]) -> None:
    for path, fd in fds.items():  # put back what got covered (the interpreter), by its fd
        want, st = os.fstat(fd), None
        try:
            st = os.stat(path)
        except OSError:
            pass
        if st is None or (st.st_dev, st.st_ino) != (want.st_dev, want.st_ino):
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
        os.close(fd)


def _reachable_interpreter(plan: _Plan) -> None:
    """Before bwrap runs as the run's uid: in a mount namespace of our own, cover the dirs that uid cannot
    enter (pyenv under /root) and bind only the interpreter back, so bwrap can mount it."""
    if _libc.unshare(_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    _mount("none", "/", None, _MS_REC | _MS_PRIVATE)
    fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in plan.needed}
    for top in plan.cover:
        _mount("tmpfs", top, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=1m,mode=755")
    _put_back(fds)


def _private_fs(plan: _Plan, uid: int) -> None:
    """In the new mount namespace: a read-only world, fresh /tmp, /dev/shm and /proc, then scratch."""
    _mount("none", "/", None, _MS_REC | _MS_PRIVATE)  # nothing mounted here propagates to the host
    for mp in plan.mountpoints:
        try:
            keep = os.statvfs(mp).f_flag & (_MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
            _mount(None, mp, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | keep)
        except OSError:
            if mp == "/":
                raise
    fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in plan.needed}  # before anything hides them
    devs = {d: os.open(f"/dev/{d}", os.O_PATH) for d in _DEVICES if os.path.exists(f"/dev/{d}")}
    for top in plan.cover:
        _mount("tmpfs", top, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=1m,mode=755")
    _mount("tmpfs", "/dev", "tmpfs", _MS_NOSUID | _MS_NOEXEC, "size=1m,mode=755")  # no /dev/log, no disks
    for name, fd in devs.items():
        os.close(os.open(f"/dev/{name}", os.O_CREAT | os.O_WRONLY, 0o666))
        _mount(f"/proc/self/fd/{fd}", f"/dev/{name}", None, _MS_BIND)
        os.close(fd)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"/dev/{name}")
    os.mkdir("/dev/shm")
    _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    _mount("tmpfs", "/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={plan.scratch_mb}m,mode=755")
    _mount("tmpfs", "/dev/shm", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=16m,mode=1777")
    _put_back(fds)
    os.mkdir(NS_SCRATCH, 0o700)
    _write_files(NS_SCRATCH, plan.files)
    _chown_tree(NS_SCRATCH, uid)
    os.chdir(NS_SCRATCH)


def _preexec(plan: _Plan):
    iso = plan.iso

    def setup() -> None:  # in the forked child before exec: syscalls only, no imports
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.umask(0o022)
        if iso.unshare_flags and _libc.unshare(iso.unshare_flags) != 0:
            raise OSError(ctypes.get_errno(), "unshare")
        owner, cpu = os.getpid(), max(1, int(plan.cpu_s + 0.999))
        _libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)  # die with whoever spawned us
        if iso.unshare_flags & _NEWPID:  # our next child is PID 1 of the new namespace
            child = os.fork()
            if child:
                _supervise(child, cpu, "/proc/1" if iso.private_fs else f"/proc/{child}")
        uid = UID_BASE + owner  # owner's pid is unique on the host while the run lives
        if iso.bwrap:
            if plan.cover:
                _reachable_interpreter(plan)
        elif iso.private_fs and iso.unshare_flags & _NEWNS:  # never in the caller's own mount namespace
            _private_fs(plan, uid)
        elif iso.drop_uid and plan.host_scratch:
            _chown_tree(plan.host_scratch, uid)
        limits = [(resource.RLIMIT_CPU, cpu, cpu if iso.unshare_flags & _NEWPID else cpu + 1),
                  (resource.RLIMIT_AS, plan.memory_mb << 20, None),
                  (resource.RLIMIT_FSIZE, plan.max_file_mb << 20, None), (resource.RLIMIT_NOFILE, 256, None)]
        if iso.drop_uid:  # NPROC counts per uid, so it only bites for a uid of our own
            limits.append((resource.RLIMIT_NPROC, plan.max_procs, None))
        for res, soft, hard in limits:
            top = resource.getrlimit(res)[1]  # non-root cannot raise a hard limit
            cap = lambda v: v if top == resource.RLIM_INFINITY else min(v, top)  # noqa: E731
            resource.setrlimit(res, (cap(soft), cap(soft if hard is None else hard)))
        if iso.drop_uid:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # setuid binaries cannot elevate
        _libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)  # changing uid cleared it
        if plan.syscalls:
            plan.syscalls.join_fresh_keyring()  # keys the caller's session holds stay with the caller
            if not iso.bwrap:  # bwrap loads it itself, after its own setup
                plan.syscalls.load()

    return setup


def _env(home: str) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
            "PYTHONNOUSERSITE": "1"}


def syscall_filter() -> Filter | None:
    with _FILTER_LOCK:  # not _LOCK: the probe, run under _LOCK, needs the filter
        if not _FILTER:
            _FILTER.append(compile_filter())
            if _FILTER[0] is None:
                PROBE_LOG.append("no seccomp filter (libseccomp missing): unix sockets, keyrings and user "
                                 "namespaces are guarded by the level alone")
        return _FILTER[0]


def shield_caller(iso: Isolation) -> None:
    """Where the program keeps the caller's uid and sees its /proc, make the caller non-dumpable, so its
    /proc/<pid>/environ (API keys) and memory are root's alone (as ssh-agent does)."""
    if not (iso.drop_uid or iso.private_fs) and sys.platform == "linux":
        _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _prepare(plan: _Plan, argv: list[str]) -> tuple[list[str], dict[str, str], str | None]:
    """Parent side: check names, resolve the program, lay out scratch unless the child builds it."""
    plan.syscalls = syscall_filter()
    for name in plan.files:
        p = PurePosixPath(name)
        if not name or p.is_absolute() or ".." in p.parts:
            raise ValueError(f"file names must be relative paths inside scratch: {name!r}")
    program = argv[0] if os.path.isabs(argv[0]) else shutil.which(argv[0]) or argv[0]
    if not os.access(program, os.X_OK):
        raise SandboxError(f"not an executable program: {argv[0]!r}")
    argv = [program, *argv[1:]]
    if plan.iso.bwrap:
        plan.needed = _needed_paths(program)
        if plan.iso.drop_uid:  # only dirs the run's uid cannot enter (HIDDEN_PATHS are not mounted at all)
            plan.cover = _covered_dirs(plan.needed, hidden=False)
        argv, plan.fds = bubblewrap.command(bubblewrap.available() or "bwrap", argv, plan.files, plan.needed,
                                            plan.scratch_mb, plan.syscalls.bpf if plan.syscalls else None)
        return argv, _env(bubblewrap.SCRATCH), None
    if plan.iso.private_fs:
        plan.needed = _needed_paths(program)
        plan.cover = _covered_dirs(plan.needed)
        plan.mountpoints = _mountpoints()
        return argv, _env(NS_SCRATCH), None
    plan.host_scratch = tempfile.mkdtemp(prefix="arena-sandbox-")
    _write_files(plan.host_scratch, plan.files)
    return argv, _env(plan.host_scratch), plan.host_scratch


def _python_argv(iso: Isolation, flags: list[str], argv: list[str]) -> list[str]:
    boot = ["-c", _BOOT] if iso.audit_hook else []  # the hook must be in place before main.py runs
    return [sys.executable, *flags, *boot, "main.py", *argv]


def _probe(iso: Isolation) -> bool:
    """Does a Python program run at this level, with the network really cut off?"""
    check = ("import os, socket\ns = socket.socket()\ns.settimeout(1)\ntry:\n    s.connect(('127.0.0.1', 9))\n"
             "except OSError as e:\n    print(os.getuid(), e.errno)\n")
    plan = _Plan(iso, {"main.py": check}, 10, 10, 256, 16, 1, 4)
    try:
        argv, env, cwd = _prepare(plan, _python_argv(iso, ["-E", "-s", "-S", "-B"], []))
        try:
            proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, timeout=10, start_new_session=True,
                                  preexec_fn=_preexec(plan), pass_fds=plan.fds)
        finally:
            for fd in plan.fds:
                os.close(fd)
            if plan.host_scratch:
                shutil.rmtree(plan.host_scratch, ignore_errors=True)
    except (OSError, subprocess.SubprocessError, SandboxError) as exc:
        PROBE_LOG.append(f"{iso.level}: {exc!r}")
        return False
    out = proc.stdout.split()
    ok = (proc.returncode == 0 and len(out) == 2 and out[0].isdigit()
          and (not iso.drop_uid or int(out[0]) >= UID_BASE)
          # ENETUNREACH: an empty netns has no route at all; bwrap's has a loopback nobody listens on
          and (iso.audit_hook or out[1] == b"101" or iso.bwrap and out[1] == b"111"))
    if not ok:
        PROBE_LOG.append(f"{iso.level}: rc={proc.returncode} out={proc.stdout[:200]!r} err={proc.stderr[-300:]!r}")
    return ok


def isolation() -> Isolation:
    """The strongest isolation level this host supports (probed on first use, then cached)."""
    global _ISOLATION
    with _LOCK:
        if _ISOLATION is None:
            order = ("namespaces", "uid") if os.geteuid() == 0 else ("userns",)
            if bubblewrap.available():
                order = ("bubblewrap", *order)
            _ISOLATION = next((_LEVELS[n] for n in order if sys.platform == "linux" and _probe(_LEVELS[n])),
                              _LEVELS["basic"])
        return _ISOLATION
