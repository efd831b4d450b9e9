"""`local/` models as a fleet of Ray actors: `replicas = N` (with `num_cpus` / `num_gpus` per
replica) on a variant, with the run connected to a cluster (`arena run --ray ADDRESS`).

Each replica is an actor holding its own copy of the model, behind the same `local/` backend
as in-process (players/local.py: llama-server where built, else llama.cpp in the actor), so a
replica's answer to a request is the answer the driver would compute itself. The driver keeps
the gateway: the fleet offers `calls_per_model` slots per replica (`endpoints`) and a call goes
to a replica by the rules of a fleet of servers (players/fleet.py).

Faults: a replica that dies mid-call (its process or node) fails that call as a transient
error; the gateway retries it, and the fleet sends the retry to another replica while Ray
restarts the dead one (`max_restarts`), which loads the model again. No call is answered twice:
Ray never retries a replica's call itself (`max_task_retries = 0`), the gateway does.

A checkpoint the replica's node cannot read (`local/<path>.gguf` on the driver's disk) travels
through Ray's object store once per fleet and is written to the node's temporary directory.
"""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from arena.config import PLACEMENT_KEYS
from arena.records import Completion, Variant
from players import fleet
from players.base import FATAL, TRANSIENT, BackendError, Request, classify_default

RESTARTS = 3  # per replica, by Ray, before the fleet gives it up
REST_AFTER_LOSS_S = 10.0  # a replica lost mid-call gets no new call for this long, while Ray restarts it


class Replica:
    """The actor: one copy of the model on a Ray worker."""

    def __init__(self, variant: Variant, files: dict[str, Any], threads: int):
        import os

        from players import local
        os.environ["ARENA_LLAMA_THREADS"] = str(threads)  # this process's share of its node, not every core
        self.variant = _localised(variant, files)
        self.backend = local.create(self.variant)

    async def complete(self, request: Request) -> Completion:
        return await self.backend.complete(request)

    def node(self) -> str:
        import ray
        return ray.get_runtime_context().get_node_id()


def _localised(variant: Variant, files: dict[str, Any]) -> Variant:
    """The variant with its model and adapter paths readable on this node."""
    import ray
    changes: dict[str, Any] = {}
    for key, (path, digest, ref) in files.items():
        target = Path(path)
        if not (target.is_file() and _digest(target) == digest):
            import tempfile
            target = Path(tempfile.gettempdir()) / "arena-replicas" / f"{digest[:16]}-{Path(path).name}"
            if not (target.is_file() and _digest(target) == digest):
                target.parent.mkdir(parents=True, exist_ok=True)
                part = target.with_suffix(".part")
                part.write_bytes(ray.get(ref))
                part.replace(target)
        changes[key] = str(target)
    if "model" in changes:
        changes["model"] = f"local/{changes['model']}"
    return replace(variant, **changes) if changes else variant


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class _Slot:
    handle: Any
    in_flight: int = 0
    resting_until: float = 0.0


class ReplicaFleet:
    """The backend of a `local/` variant with replicas: what the gateway sees."""

    def __init__(self, variant: Variant, key: str, replicas: int, num_cpus: float, num_gpus: float):
        from arena.cluster import ray_module
        ray = ray_module()
        self.key = f"{key}|ray"  # a fleet is its own model in the gateway's counters
        self.variant = variant
        inner = replace(variant, options={k: v for k, v in variant.options.items() if k not in PLACEMENT_KEYS})
        files = _shipped(ray, inner)
        # SPREAD: a variant's replicas on different nodes where they can be, so one node lost leaves
        # the others serving while Ray restarts its replicas.
        actor = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=RESTARTS, max_task_retries=0,
                           scheduling_strategy="SPREAD")(Replica)
        threads = max(1, round(num_cpus))
        self.slots = [_Slot(actor.remote(inner, files, threads)) for _ in range(replicas)]
        self.endpoints = self.slots  # the gateway sizes the model's limit by its servers
        self._turn = itertools.count()

    async def complete(self, request: Request) -> Completion:
        from arena.cluster import ray_module
        ray = ray_module()
        slot = fleet.pick(self.slots, self._turn)
        wait = slot.resting_until - time.monotonic()
        if wait > 0:  # every replica was lost: give Ray the rest period to restart them, not an attempt
            await asyncio.sleep(wait)
        slot.in_flight += 1
        try:
            return await slot.handle.complete.remote(request)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
            fleet.rest(slot, REST_AFTER_LOSS_S)
            raise BackendError(f"replica of {self.variant.name} lost mid-call ({type(exc).__name__}); "
                               "retried on another", TRANSIENT) from None
        except ray.exceptions.RayTaskError as exc:  # the replica's own error (a bad request, ...): as at home
            raise (exc.cause if isinstance(exc.cause, BaseException) else exc) from None
        finally:
            slot.in_flight -= 1

    def classify(self, exc: BaseException) -> tuple[str, float | None]:
        return classify_default(exc)

    async def aclose(self) -> None:
        from arena.cluster import connected, ray_module
        if connected() is None:
            return
        ray = ray_module()
        for slot in self.slots:
            try:
                ray.kill(slot.handle)
            except Exception:  # noqa: BLE001 - already gone with its node: nothing left to stop
                pass
        self.slots = []
        await asyncio.sleep(0)


def _shipped(ray: Any, variant: Variant) -> dict[str, Any]:
    """The files a replica needs that a node may not have: a GGUF path and an adapter."""
    files: dict[str, Any] = {}
    name = variant.model.split("/", 1)[1] if "/" in variant.model else ""
    for key, path in (("model", name if name.endswith(".gguf") else None), ("adapter", variant.adapter)):
        if path:
            p = Path(path).expanduser().resolve()
            files[key] = (str(p), _digest(p), ray.put(p.read_bytes()))
    return files


def create(variant: Variant, key: str, replicas: int, num_cpus: float, num_gpus: float) -> ReplicaFleet:
    from arena.cluster import connected
    if connected() is None:
        raise BackendError(f"variant {variant.name!r} has replicas = {replicas}, which run on a Ray cluster: "
                           "pass --ray ADDRESS (or set [tournament] ray)", FATAL)
    return ReplicaFleet(variant, key, replicas, num_cpus, num_gpus)
