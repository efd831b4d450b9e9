"""`local/` variants with replicas on a local two-node Ray cluster: the replicas answer as the
model does in-process, on both nodes; and the drill: a tournament of local replicas and a
sandboxed family loses a worker node mid-run, and still finishes every match once, with the
ratings and pairs of the same run without Ray."""
import asyncio
import threading
import time

import pytest

from arena.config import parse_config
from arena.engine.gateway import Gateway
from arena.engine.runner import run
from arena.records import SamplingParams, Variant
from tests.support.progress import finished_matches
from tests.support.ray_cluster import local_cluster

ray = pytest.importorskip("ray")
PROMPTS = ["Name a colour.", "Say a number.", "Greet me.", "Name a fruit."]


@pytest.fixture
def two_nodes():
    from arena import cluster as arena_cluster
    # two CPUs a node: after a node is lost the survivor holds every replica and still has a CPU
    # for the sandbox's runs (a run needs a whole one)
    with local_cluster({"num_cpus": 2}, {"num_cpus": 2}) as (c, nodes):
        arena_cluster.connect(c.address)
        yield c, nodes


def smol(name, **options):
    # in-process decoding inside each replica: one sequence at a time, so answers replay exactly
    return Variant(name, "local/smollm2-135m", SamplingParams(max_tokens=12, temperature=0.7, seed=5),
                   options={"server": "off", **options})


async def ask_all(variant):
    """The variant's answers to PROMPTS, asked at once through the gateway, and the nodes that
    hold its replicas (none in-process)."""
    gw = Gateway({variant.name: variant}, calls_per_model=4)
    try:
        slots = getattr(gw.backend(variant.name), "slots", [])
        nodes = {await s.handle.node.remote() for s in slots}
        done = await asyncio.gather(*(gw.ask(variant.name, "player", [{"role": "user", "content": p}],
                                             match_id=f"m{i}") for i, p in enumerate(PROMPTS)))
        return [c.text for c in done], nodes
    finally:
        await gw.aclose()


def test_replicas_on_two_nodes_answer_as_the_model_does_in_process(two_nodes):
    home, no_nodes = asyncio.run(ask_all(smol("home")))
    away, nodes = asyncio.run(ask_all(smol("fleet", replicas=2)))
    assert away == home and len(set(home)) > 1 and not no_nodes
    assert nodes == {n.node_id for n in two_nodes[1]}  # one replica on each worker node


def test_replicas_without_a_cluster_are_one_clear_error():
    from arena import cluster as arena_cluster
    from players.base import BackendError
    from players.registry import create_backend
    assert arena_cluster.connected() is None
    with pytest.raises(BackendError, match="replicas = 2, which run on a Ray cluster: pass --ray"):
        create_backend(smol("fleet", replicas=2))


def tournament(**ray):
    """Chess and predict-output between two embedded-model players: on the cluster, both players
    are two replicas each and the programs run on its workers."""
    on_ray = {"replicas": 2, "num_cpus": 0.25} if ray else {}  # a quarter CPU: after the kill all fit on one node
    return parse_config({
        "tournament": {"name": "replicas", "families": ["chess", "predict-output"], "players": ["a", "b"],
                       "rounds": 1, "seed": 4, "matches_in_flight": 4, **ray},
        "families": {"chess": {"max_plies": 6}},
        "variants": [{"name": n, "model": "local/smollm2-135m", "max_tokens": 8, "temperature": 0.8,
                      "server": "off", **on_ray} for n in "ab"]})


def pairs(run_dir, out):
    from arena.training.export import ExportOptions, export_dpo
    export_dpo(run_dir, out, ExportOptions(embeddings=False))
    return sorted(out.read_text().splitlines())


def test_a_node_killed_mid_tournament_loses_no_match_and_changes_no_rating_or_pair(tmp_path, two_nodes):
    from arena import cluster as arena_cluster
    from referees.sandbox import remote
    c, (doomed, _) = two_nodes
    arena_cluster.disconnect()  # the baseline runs without Ray
    home = run(tournament(), tmp_path / "home")
    assert home.finished == 4 and home.failed == 0
    arena_cluster.connect(c.address)
    cfg = tournament(ray=c.address, sandbox="ray")
    assert remote.place(cfg.ray, cfg.sandbox) == "ray"
    at_kill: list[int] = []

    def kill_when_under_way() -> None:
        deadline = time.monotonic() + 300
        while finished_matches(tmp_path / "away") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        at_kill.append(finished_matches(tmp_path / "away"))
        c.remove_node(doomed, allow_graceful=False)

    killer = threading.Thread(target=kill_when_under_way, daemon=True)
    killer.start()
    try:
        away = run(cfg, tmp_path / "away")
    finally:
        remote.use_cluster(False)
    killer.join(60)
    assert at_kill and at_kill[0] < 4
    assert away.tournament_id == home.tournament_id  # where the model runs is not what a match is
    assert away.finished == 4 and away.failed == 0
    rated = lambda s: sorted((r.variant, r.role, r.family, r.mu, r.sigma, r.wins, r.losses, r.draws)  # noqa: E731
                             for r in s.ratings)
    assert rated(away) == rated(home)
    home_pairs = pairs(tmp_path / "home", tmp_path / "home.jsonl")
    assert home_pairs and pairs(tmp_path / "away", tmp_path / "away.jsonl") == home_pairs
