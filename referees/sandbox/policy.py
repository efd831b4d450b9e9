"""Whether model code may run at the level this host offers: below "namespaces" only when the config
says `allow_weak_sandbox = true`, and then with a loud warning (once per level and process).

The CLI commands that run tournaments set it from the config (`allow_weak_sandbox(cfg.allow_weak_sandbox)`);
run_program checks it before every run.
"""
from __future__ import annotations

import logging

from referees.sandbox.confinement import PROBE_LOG, Isolation, SandboxError

WEAK_LEVELS = frozenset({"uid", "userns", "basic"})  # below "namespaces"
_ALLOW_WEAK = False
_WARNED: set[str] = set()


class WeakSandbox(SandboxError):
    """The strongest level this host offers is a weak one and the config did not accept it."""


def allow_weak_sandbox(allowed: bool) -> None:
    """The config's `allow_weak_sandbox`: run model code even at a level below "namespaces"."""
    global _ALLOW_WEAK
    _ALLOW_WEAK = bool(allowed)


def weak_allowed() -> bool:
    return _ALLOW_WEAK


def check_level(iso: Isolation) -> None:
    """Refuse model code at a weak level unless allowed; where allowed, say so loudly (once per level)."""
    if iso.level not in WEAK_LEVELS:
        return
    why = "; ".join(PROBE_LOG[-3:]) or "no stronger level works here"
    if not _ALLOW_WEAK:
        raise WeakSandbox(f"the sandbox on this host is only level {iso.level!r} ({why}): model code is refused; "
                          "install bubblewrap, or set allow_weak_sandbox = true under [tournament] to accept it")
    if iso.level not in _WARNED:
        _WARNED.add(iso.level)
        logging.getLogger("arena.sandbox").warning(
            "WEAK SANDBOX: model code runs at level %r (allow_weak_sandbox = true): files, processes and other "
            "languages are guarded far less than at level 'namespaces' (%s)", iso.level, why)
