"""Training where the accelerator is: on a cluster with a GPU the training runs on that node and
the checkpoint comes back to the driver's folder; on a cluster without one it runs here."""
import json

import pytest

from arena.config import BUILTIN_VARIANTS
from arena.training.remote import cluster_gpus, train_somewhere
from arena.training.train import TrainOptions, read_variant_toml
from tests.arena.training.test_train import needs_extras
from tests.support.ray_cluster import local_cluster

ray = pytest.importorskip("ray")


def pairs_file(path):
    rows = [{"prompt": [{"role": "user", "content": f"What is {i} plus {i}?"}],
             "chosen": [{"role": "assistant", "content": str(2 * i)}],
             "rejected": [{"role": "assistant", "content": "I do not know, maybe a fish."}]} for i in range(4)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@needs_extras
def test_on_a_cluster_with_a_gpu_the_training_runs_there_and_the_checkpoint_comes_back(tmp_path):
    from arena import cluster as arena_cluster
    # A node that declares one GPU: Ray schedules by the declared resource, so the training goes
    # there (torch finds no CUDA on this machine and trains on its CPU: the route is what is tested).
    with local_cluster({"num_cpus": 1, "num_gpus": 1}, head_cpus=1) as (c, (gpu_node,)):
        arena_cluster.connect(c.address)
        assert cluster_gpus() == 1
        out = tmp_path / "gen1"
        result = train_somewhere(TrainOptions(pairs=pairs_file(tmp_path / "pairs.jsonl"),
                                              base=BUILTIN_VARIANTS["smol-cold"], out=out, name="smol-remote",
                                              max_steps=1, batch_size=1, grad_accum=1, check_pairs=0,
                                              progress=False), log=lambda line: None)
    assert result.gguf == out / "smol-remote.gguf" and result.gguf.is_file() and result.steps == 1
    report = json.loads((out / "train.json").read_text())
    assert report["trained_on"] == gpu_node.node_id and report["gguf"] == str(result.gguf)
    variant = read_variant_toml(out / "variant.toml")
    assert variant.model == f"local/{result.gguf.resolve()}" and variant.name == "smol-remote"
    assert cluster_gpus() == 0  # disconnected: training runs here again
