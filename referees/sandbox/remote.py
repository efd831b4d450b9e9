"""The sandbox on a Ray cluster (`[tournament] sandbox = "ray"`, or "auto" with `--ray`).

Each run is one Ray task: the worker probes its own isolation level, applies the driver's
`allow_weak_sandbox` policy (a node without the required level refuses model code, the same
WeakSandbox error as at home) and runs the program with the same confinement code, which the
job ships to every node (arena/cluster.py). The result, with the level it ran at, comes back
to the driver, which makes the verdict exactly as for a run at home.

A worker or node that dies mid-run is retried by Ray on another one (`max_retries`): a program
run has no effect outside its scratch, so running it again is safe; once retries are spent the
error reaches the match, which fails and is replayed, never scored.
"""
from __future__ import annotations

import asyncio
from typing import Any

# Runs retried when their worker or node dies (Ray's system failures; a program's own failure is
# a result, not an exception, and is never retried).
MAX_RETRIES = 4
CPUS_PER_RUN = 1
# How long a run may wait for a worker, beyond its own time limit and its retries.
SCHEDULING_GRACE_S = 120.0

_ENABLED = False
_TASK: Any = None


def place(ray: str | None, sandbox: str) -> str:
    """Where model code runs for a run with `[tournament] ray` and `sandbox`: joins the cluster if
    one is named, then "ray" (the cluster's workers) or "local" (this machine). Returns which."""
    from arena.cluster import ClusterError, connect, connected
    if ray:
        connect(ray)
    if sandbox == "ray" and connected() is None:
        raise ClusterError('[tournament] sandbox = "ray" needs a cluster: set ray = "auto" or an address, '
                           "or pass --ray ADDRESS")
    where = "ray" if sandbox == "ray" or (sandbox == "auto" and connected() is not None) else "local"
    use_cluster(where == "ray")
    return where


def use_cluster(enabled: bool) -> None:
    """Send sandbox runs to the connected Ray cluster (True) or run them here (False)."""
    global _ENABLED
    if enabled:
        from arena.cluster import connected
        if connected() is None:
            raise RuntimeError("sandbox on Ray needs a connected cluster (arena.cluster.connect)")
    _ENABLED = bool(enabled)


def active() -> bool:
    return _ENABLED


def _worker_run(function: str, args: tuple[Any, ...], kwargs: dict[str, Any], allow_weak: bool) -> Any:
    """On the worker: this node's sandbox (its interpreter, its isolation level), under the
    driver's policy."""
    import dataclasses

    import ray

    from referees.sandbox import execution, policy
    policy.allow_weak_sandbox(allow_weak)
    result = asyncio.run(getattr(execution, function)(*args, **kwargs))
    return dataclasses.replace(result, node=ray.get_runtime_context().get_node_id())


def _task() -> Any:
    global _TASK
    if _TASK is None:
        from arena.cluster import ray_module
        ray = ray_module()
        _TASK = ray.remote(num_cpus=CPUS_PER_RUN, max_retries=MAX_RETRIES, retry_exceptions=False)(_worker_run)
    return _TASK


async def run(function: str, *args: Any, **kwargs: Any) -> Any:
    """`execution.<function>(*args, **kwargs)` as a Ray task; its SandboxResult (or its error).
    A run no worker takes up within the grace period (a cluster without free CPUs, every worker
    node gone) fails instead of stalling its match for ever."""
    from referees.sandbox import policy
    from referees.sandbox.confinement import SandboxError
    ref = _task().remote(function, args, kwargs, policy.weak_allowed())
    limit = float(kwargs.get("timeout_s", 10)) * (MAX_RETRIES + 1) + SCHEDULING_GRACE_S
    try:
        return await asyncio.wait_for(asyncio.wrap_future(ref.future()), limit)
    except asyncio.TimeoutError:
        _task_cancel(ref)
        raise SandboxError(f"no Ray worker finished the sandbox run within {limit:.0f}s "
                           "(does the cluster have a free CPU?)") from None


def _task_cancel(ref: Any) -> None:
    from arena.cluster import ray_module
    try:
        ray_module().cancel(ref, force=True)
    except Exception:  # noqa: BLE001 - the run is already given up; a failed cancel changes nothing
        pass
