"""The syscall filter every sandboxed program runs under (seccomp, compiled by libseccomp).

It closes doors that namespaces and an own uid leave open: unix sockets (host daemons such as
/dev/log or a docker socket answer a throwaway uid as well; io_uring could open them past the
filter, so it is refused too), the kernel keyrings (a key in the caller's session keyring is
readable by whoever inherits that keyring), and new user namespaces (full capabilities inside one
are a large kernel attack surface), and memfds and SysV shared memory (memory held outside any
process's mappings, which the whole-run memory accounting cannot see). socketpair() stays: its two
ends reach nothing else.

The filter is compiled once in the parent (libseccomp picks the right syscall numbers for this
architecture; other ABIs are killed) and only loaded, with one prctl, in the child before exec.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os

_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_CMP_EQ, _CMP_MASKED_EQ = 4, 7
_AF_UNIX, _CLONE_NEWUSER = 1, 0x10000000
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


# (syscall, errno, argument test or None)
_RULES = [
    ("socket", errno.EPERM, _ArgCmp(0, _CMP_EQ, _AF_UNIX, 0)),
    ("unshare", errno.EPERM, _ArgCmp(0, _CMP_MASKED_EQ, _CLONE_NEWUSER, _CLONE_NEWUSER)),
    ("clone", errno.EPERM, _ArgCmp(0, _CMP_MASKED_EQ, _CLONE_NEWUSER, _CLONE_NEWUSER)),
    ("clone3", errno.ENOSYS, None),  # flags sit behind a pointer: ENOSYS makes libc fall back to clone
    *((name, errno.EPERM, None) for name in ("keyctl", "add_key", "request_key", "io_uring_setup",
                                             "io_uring_enter", "io_uring_register")),
    # memory no process maps escapes the whole-run memory accounting (referees/sandbox/accounting.py)
    ("memfd_create", errno.EPERM, None), ("shmget", errno.EPERM, None),
]


class Filter:
    """A compiled filter: `load()` is safe between fork and exec (one prctl, nothing allocated)."""

    def __init__(self, bpf: bytes, keyctl_nr: int) -> None:
        self._buf = ctypes.create_string_buffer(bpf, len(bpf))
        self._prog = _Fprog(len(bpf) // 8, ctypes.addressof(self._buf))
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.syscall.restype = ctypes.c_long
        self.keyctl_nr = keyctl_nr

    def join_fresh_keyring(self) -> None:
        """Leave the caller's session keyring for a new, empty, anonymous one (KEYCTL_JOIN_SESSION_KEYRING)."""
        if self.keyctl_nr >= 0 and self._libc.syscall(self.keyctl_nr, 1, None) < 0:
            err = ctypes.get_errno()
            if err != errno.ENOSYS:  # a kernel without keyrings has nothing to leak
                raise OSError(err, "keyctl(JOIN_SESSION_KEYRING)")

    def load(self) -> None:
        if self._libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(self._prog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")

    @property
    def bpf(self) -> bytes:
        return self._buf.raw


def compile_filter() -> Filter | None:
    """The filter for this host, or None where libseccomp (or seccomp itself) is missing."""
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(_ALLOW)
    if not ctx:
        return None
    try:
        for syscall, err, cmp in _RULES:
            nr = lib.seccomp_syscall_resolve_name(syscall.encode())
            if nr < 0:
                continue  # not on this architecture
            args = (_ArgCmp * 1)(cmp) if cmp is not None else None
            if lib.seccomp_rule_add_array(ctx, _ERRNO | err, nr, 1 if cmp is not None else 0, args) != 0:
                return None
        fd = os.memfd_create("arena-seccomp")
        try:
            if lib.seccomp_export_bpf(ctx, fd) != 0:
                return None
            bpf = os.pread(fd, 1 << 20, 0)
        finally:
            os.close(fd)
        return Filter(bpf, lib.seccomp_syscall_resolve_name(b"keyctl"))
    finally:
        lib.seccomp_release(ctx)
