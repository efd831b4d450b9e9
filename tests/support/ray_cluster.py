"""A local multi-node Ray cluster on this machine for a test: a head that runs nothing (so work
goes to the worker nodes, which a test may kill), the given worker nodes, and on the way out
the sandbox back home, the connection closed and every Ray process stopped."""
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def local_cluster(*nodes: dict[str, Any], head_cpus: float = 0) -> Iterator[tuple[Any, list[Any]]]:
    from ray.cluster_utils import Cluster

    from arena import cluster
    from referees.sandbox import remote
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": head_cpus})
    added = [c.add_node(**n) for n in nodes]
    c.wait_for_nodes()
    try:
        yield c, added
    finally:
        remote.use_cluster(False)
        cluster.disconnect()
        c.shutdown()
