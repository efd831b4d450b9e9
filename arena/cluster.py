"""The connection to a Ray cluster, when a run asks for one (`arena run --ray ADDRESS`, or
`[tournament] ray = "auto" | "host:port" | "ray://host:port"`).

One driver keeps the schedule, the matches, the gateway and the store; Ray only provides
workers (the sandbox's runs, see referees/sandbox/remote.py). Nothing here imports Ray until
`connect` is called, so a run without a cluster never loads it.

The workers run the driver's own code: arena's packages are shipped with the job
(`runtime_env.py_modules`), so every node confines model code with exactly the confinement
code the driver has, and a node cannot answer with an older or patched copy. The third-party
libraries (pydantic, ...) must be installed on the nodes (`pip install arena[ray]` there too).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from arena.errors import UserError

# The packages a worker needs to run the sandbox: the sandbox itself and what it imports.
SHIPPED = ("arena", "players", "referees", "tournaments")


class ClusterError(UserError):
    """The cluster cannot be used: Ray is not installed, or the address does not answer."""


@dataclass(frozen=True)
class ClusterInfo:
    address: str
    nodes: int
    cpus: float


_LOCK = threading.Lock()
_INFO: ClusterInfo | None = None


def connect(address: str) -> ClusterInfo:
    """Join the cluster at `address` ("auto": the one `ray start` made on this machine). Idempotent
    within a process; a second, different address is refused rather than silently ignored."""
    global _INFO
    with _LOCK:
        if _INFO is not None:
            if address not in ("auto", _INFO.address):
                raise ClusterError(f"already connected to the Ray cluster at {_INFO.address}, not {address}")
            return _INFO
        try:
            import ray
        except ImportError:
            raise ClusterError("--ray needs Ray: pip install 'arena[ray]'") from None
        problem = _unreachable(address)
        if problem:
            raise ClusterError(f"cannot reach the Ray cluster at {address}: {problem}")
        import importlib
        modules = [importlib.import_module(name) for name in SHIPPED]
        try:
            ctx = ray.init(address=address, runtime_env={"py_modules": modules}, logging_level="ERROR",
                           log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            why = " ".join(str(exc).split())[:200]
            raise ClusterError(f"cannot join the Ray cluster at {address}: {why}") from None
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        _INFO = ClusterInfo(getattr(ctx, "address_info", {}).get("gcs_address") or address, len(nodes),
                            float(ray.cluster_resources().get("CPU", 0)))
        return _INFO


def _unreachable(address: str, timeout_s: float = 5.0) -> str | None:
    """Why host:port does not answer, or None. Checked first because Ray itself keeps retrying an
    address where nothing listens for minutes."""
    import socket
    if address == "auto":
        return None  # Ray finds the local cluster's address itself and says at once if there is none
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return "not an address (expected host:port, ray://host:port or auto)"
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s).close()
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def connected() -> ClusterInfo | None:
    return _INFO


def disconnect() -> None:
    global _INFO
    with _LOCK:
        if _INFO is None:
            return
        import ray
        ray.shutdown()
        _INFO = None


def ray_module() -> Any:
    """Ray itself, for the modules that submit work; only once connected."""
    if _INFO is None:
        raise RuntimeError("not connected to a Ray cluster")
    import ray
    return ray
