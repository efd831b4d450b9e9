"""Serving speed of a checkpoint written by `arena train`: generated tokens per second in
llama.cpp, against the base GGUF it was trained from (SmolLM2-135M-Instruct, Q4_1).

`arena train` merges the LoRA and writes the changed tensors (every linear layer) as F16 by
default, copying the rest in its original quantization. The checkpoint measured here has
exactly that layout: all linear layers of the base moved by a small LoRA-sized delta and
written back (or pass a real one: `python -m bench.checkpoint measure PATH`). Each model is
measured in its own child process, warmed up, over the same greedy generations.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

from bench.common import Unavailable, child, emit, figure, unavailable

PROMPTS = ["Write a short story about a lighthouse keeper.", "Explain how a bicycle stays upright.",
           "List five uses for a paperclip and explain each.", "Describe the water cycle to a child."]
MAX_TOKENS = 96
NAME, UNIT, TARGET = "trained_checkpoint_throughput", "tokens/s", ">= 0.8x the base GGUF in llama.cpp"


def measure_child(path: str, rounds: int) -> dict:
    from llama_cpp import Llama
    llm = Llama(model_path=path, n_ctx=1024, n_threads=os.cpu_count() or 2, verbose=False)
    llm.create_chat_completion([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0)
    tokens = 0
    started = time.perf_counter()
    for i in range(rounds):
        out = llm.create_chat_completion([{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}],
                                         max_tokens=MAX_TOKENS, temperature=0.0)
        tokens += out["usage"]["completion_tokens"]
    return {"tokens": tokens, "seconds": time.perf_counter() - started, "bytes": os.path.getsize(path)}


def make_checkpoint(out: str, gguf_type: str) -> dict:
    import torch

    from arena.training.gguf import write_merged_gguf
    from arena.training.train import LORA_TARGETS, load_model
    from players.local import default_gguf
    model = load_model(default_gguf())
    gen = torch.Generator().manual_seed(0)
    state = model.state_dict()
    for key, w in state.items():
        if any(f".{t}." in key for t in LORA_TARGETS):
            state[key] = w + 1e-3 * w.abs().mean() * torch.randn(w.shape, generator=gen)
    report = write_merged_gguf(default_gguf(), state, out, changed_type=gguf_type)
    return {"changed": len(report.changed), "copied": len(report.copied)}


def run(quick: bool = False) -> list[dict]:
    rounds = 4 if quick else 12
    try:
        from players.local import default_gguf
        base = str(default_gguf())
        with tempfile.TemporaryDirectory() as tmp:
            ckpt = os.path.join(tmp, "checkpoint.gguf")
            made = child("bench.checkpoint", "make", ckpt, "f16", timeout=900)
            ours = child("bench.checkpoint", "measure", ckpt, str(rounds))
            theirs = child("bench.checkpoint", "measure", base, str(rounds))
    except (Unavailable, ImportError) as exc:
        return [unavailable(NAME, UNIT, TARGET, str(exc))]
    value, reference = ours["tokens"] / ours["seconds"], theirs["tokens"] / theirs["seconds"]
    ratio = value / reference
    note = (f"{rounds} greedy generations of up to {MAX_TOKENS} tokens; checkpoint {made['changed']} tensors F16 + "
            f"{made['copied']} copied ({ours['bytes'] / 2**20:.0f} MiB), base Q4_1 ({theirs['bytes'] / 2**20:.0f} MiB)")
    return [figure(NAME, value, UNIT, reference, ratio, TARGET, ratio >= 0.8, note,
                   reference_engine="llama.cpp (base GGUF)")]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "make":
        emit(make_checkpoint(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "measure":
        emit(measure_child(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 12))
    else:
        import json
        print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
