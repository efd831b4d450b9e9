"""The sandbox: model-written (hostile) programs run here and nowhere else.

`confinement` decides how a run is isolated (levels, the probe, the child's setup), with
`bubblewrap` (the preferred confinement where bwrap is installed) and `syscalls` (the seccomp
filter); `policy` says whether model code may run at the level found; `execution` runs a program
and turns what it did into a verdict, with `accounting` bounding the memory of the whole run;
`spawner` is the small helper process that starts the programs (so a caller holding a loaded model
is never forked), and `remote` sends runs to a Ray cluster instead.
"""
from referees.sandbox.confinement import Isolation, SandboxError, isolation
from referees.sandbox.execution import (
                                        STATUSES,
                                        SandboxResult,
                                        run_javascript,
                                        run_javascript_sync,
                                        run_program,
                                        run_python,
                                        run_python_sync,
)
from referees.sandbox.policy import WeakSandbox, allow_weak_sandbox

__all__ = ["STATUSES", "Isolation", "SandboxError", "SandboxResult", "WeakSandbox", "allow_weak_sandbox", "isolation",
           "run_javascript", "run_javascript_sync", "run_program", "run_python", "run_python_sync"]
