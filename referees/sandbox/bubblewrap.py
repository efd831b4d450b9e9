"""The bubblewrap (bwrap) command line for one run: the preferred confinement where bwrap is installed.

A maintained tool is the better boundary: bwrap builds the view from nothing (only the system dirs,
the interpreter and scratch are mounted, so stores, run directories, /run and /var are absent),
with fresh /dev, /proc and /tmp, every namespace unshared (loopback only), all capabilities dropped,
no further user namespaces, a new session, and the syscall filter of referees/sandbox/syscalls.py.
As root the caller first switches to the run's own uid (the child setup in confinement.py), so
bwrap runs unprivileged and the program is that uid on the host. The files go in through memfds.
"""
from __future__ import annotations

import os
import shutil
from pathlib import PurePosixPath

SCRATCH = "/tmp/sandbox"
_SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")


def available() -> str | None:
    return shutil.which("bwrap")


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def command(bwrap: str, argv: list[str], files: dict[str, str], needed: list[str], scratch_mb: int,
            bpf: bytes | None) -> tuple[list[str], list[int]]:
    """bwrap's argv around `argv`, and the fds it must inherit (the caller closes them after the spawn)."""
    fds: list[int] = []
    cmd = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
           "--cap-drop", "ALL", "--hostname", "sandbox"]
    for path in _SYSTEM:
        if os.path.islink(path):
            cmd += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            cmd += ["--ro-bind", path, path]
    for i, path in enumerate(needed):  # the interpreter, where it lies outside the system dirs
        if not any(path == s or path.startswith(s.rstrip("/") + "/") for s in (*_SYSTEM, *needed[:i])):
            cmd += ["--ro-bind", path, path]
    # /dev from a short list, not bwrap's --dev: that one fails outright where the host lacks e.g. /dev/tty
    cmd += ["--proc", "/proc", "--tmpfs", "/dev"]
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            cmd += ["--dev-bind", f"/dev/{name}", f"/dev/{name}"]
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        cmd += ["--symlink", target, f"/dev/{name}"]
    cmd += ["--size", str(16 << 20), "--tmpfs", "/dev/shm", "--size", str(scratch_mb << 20), "--tmpfs", "/tmp",
            "--perms", "0700", "--dir", SCRATCH]
    for d in sorted({str(PurePosixPath(rel).parent) for rel in files} - {"."}, key=len):
        for i in range(1, len(PurePosixPath(d).parts) + 1):
            cmd += ["--dir", f"{SCRATCH}/{PurePosixPath(*PurePosixPath(d).parts[:i])}"]
    for rel, text in files.items():
        fds.append(_memfd("arena-file", text.encode()))
        cmd += ["--perms", "0644", "--file", str(fds[-1]), f"{SCRATCH}/{rel}"]
    if bpf:
        fds.append(_memfd("arena-seccomp", bpf))
        cmd += ["--seccomp", str(fds[-1])]
    cmd += ["--remount-ro", "/"]  # the dirs bwrap made for its mount points stay unwritable
    return [*cmd, "--chdir", SCRATCH, "--", *argv], fds


def exit_code(rc: int | None) -> int | None:
    """bwrap reports a program killed by signal N as exit 128 + N: give it back as -N like Popen does."""
    if rc is not None and 128 < rc < 128 + 65:
        return 128 - rc
    return rc
