"""The sandbox: model-written (hostile) programs run here and nowhere else.

`confinement` decides how a run is isolated (levels, the probe, the child's setup); `execution`
runs a program under it and turns what it did into a verdict.
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

__all__ = ["STATUSES", "Isolation", "SandboxError", "SandboxResult", "isolation", "run_javascript",
           "run_javascript_sync", "run_program", "run_python", "run_python_sync"]
