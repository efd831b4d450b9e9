"""Serving speed of a checkpoint written by `arena train`, and how much of its training the
written form keeps: generated tokens per second in llama.cpp against the base GGUF it was
trained from (SmolLM2-135M-Instruct, Q4_1), and the mean log-prob margin chosen - rejected on
the trained pairs for the base, the exact (F32-written) child and each candidate type.

The checkpoint is a real one: a LoRA trained by arena.training.train on a handful of pairs
with the loop's learning rate and step count, merged and written back exactly (F32); every
candidate type is then written from those same merged weights, so the candidates differ only
in how the changed tensors are stored. All models run in one child process, generations
interleaved round by round (same prompts, greedy), so machine load falls on each alike.
Speed is generated tokens per CPU-second of a one-thread decode: on this shared two-core
machine wall-clock tokens/s of a two-thread decode swings with the other processes' load (a
byte-identical copy of the base measured 0.15x the base in one interleaved run), while the
CPU time a token costs is the work it does. Wall-clock tokens/s are reported beside it.
`python -m bench.checkpoint compare` prints every candidate.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Unavailable, child, emit, figure, unavailable

PROMPTS = ["Write a short story about a lighthouse keeper.", "Explain how a bicycle stays upright.",
           "List five uses for a paperclip and explain each.", "Describe the water cycle to a child."]
MAX_TOKENS = 96
NAME, UNIT, TARGET = "trained_checkpoint_throughput", "tokens/s", ">= 0.8x the base GGUF in llama.cpp"
CANDIDATES = ("f16", "q8_0", "q5_1", "q4_1")
# A preference a small model can learn in a dozen steps: one clipped answer over a rambling or
# wrong one, the kind of pair the loop's tournaments rank.
PAIRS = [("What is the capital of France?", "Paris.", "I think it might be Lyon, or maybe Marseille."),
         ("How many legs does a spider have?", "Eight.", "Spiders have six legs, like all insects."),
         ("What is 7 times 8?", "56.", "7 times 8 is 54, if I remember right."),
         ("Which planet is known as the red planet?", "Mars.", "That would be Jupiter, the big red one."),
         ("What gas do plants take in?", "Carbon dioxide.", "Plants breathe in oxygen just like us."),
         ("Who wrote Romeo and Juliet?", "William Shakespeare.", "It was written by Charles Dickens."),
         ("What is the boiling point of water at sea level?", "100 degrees Celsius.",
          "Water boils at about 50 degrees Celsius."),
         ("How many days are in a leap year?", "366.", "A leap year has 365 days, the same as always.")]


def write_pairs(path: Path) -> None:
    rows = [{"prompt": [{"role": "user", "content": q}], "chosen": [{"role": "assistant", "content": good}],
             "rejected": [{"role": "assistant", "content": bad}]} for q, good, bad in PAIRS]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def make(out_dir: str, types: str) -> dict:
    """Train the checkpoint (written exactly, F32), then write each candidate type from it."""
    from arena.config import BUILTIN_VARIANTS
    from arena.training.gguf import write_merged_gguf
    from arena.training.train import TrainOptions, load_model, train
    from players.local import default_gguf
    out = Path(out_dir)
    write_pairs(out / "pairs.jsonl")
    started = time.perf_counter()
    # the loop's learning rate, batch and RPO weight; 8 pairs x 6 epochs = its 12 optimizer steps
    result = train(TrainOptions(pairs=out / "pairs.jsonl", base=BUILTIN_VARIANTS["smol-cold"], out=out / "train",
                                name="exact", epochs=6, rpo_alpha=1.0, gguf_type="f32", check_pairs=0,
                                progress=False), log=lambda _: None)
    trained = time.perf_counter() - started
    state = load_model(result.gguf).state_dict()
    made = {"exact": str(result.gguf), "train_seconds": round(trained, 1), "steps": result.steps, "types": {}}
    for kind in types.split(","):
        path = out / f"{kind}.gguf"
        started = time.perf_counter()
        report = write_merged_gguf(default_gguf(), state, path, changed_type=kind)
        made["types"][kind] = {"path": str(path), "changed": len(report.changed), "copied": len(report.copied),
                               "bytes": report.bytes, "write_seconds": round(time.perf_counter() - started, 1)}
    return made


def margins(paths: dict[str, str], pairs: str) -> dict:
    """Mean llama.cpp log p(chosen) - log p(rejected) on the trained pairs, per model."""
    from arena.config import BUILTIN_VARIANTS
    from arena.training.train import load_pairs, load_tokenizer
    from arena.training.train import margins as mean_margin
    from players.local import default_gguf
    rows = load_pairs(Path(pairs), BUILTIN_VARIANTS["smol-cold"].system, None, 0)  # as train saw them
    tok = load_tokenizer(default_gguf())
    return {label: mean_margin(Path(p), tok, rows) for label, p in paths.items()}


def measure(paths: dict[str, str], rounds: int) -> dict:
    """Greedy generations, the models taking turns round by round (the order rotating)."""
    from llama_cpp import Llama
    labels = list(paths)
    llms = {k: Llama(model_path=p, n_ctx=1024, n_threads=1, n_threads_batch=1, verbose=False) for k, p in paths.items()}
    stats = {k: {"tokens": 0, "seconds": 0.0, "cpu_seconds": 0.0, "texts": []} for k in labels}
    for llm in llms.values():  # warm-up
        llm.create_chat_completion([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0)
    for i in range(rounds):
        msgs = [{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}]
        for k in labels[i % len(labels):] + labels[: i % len(labels)]:
            started, cpu = time.perf_counter(), time.process_time()
            out = llms[k].create_chat_completion(msgs, max_tokens=MAX_TOKENS, temperature=0.0)
            stats[k]["cpu_seconds"] += time.process_time() - cpu
            stats[k]["seconds"] += time.perf_counter() - started
            stats[k]["tokens"] += out["usage"]["completion_tokens"]
            stats[k]["texts"].append(out["choices"][0]["message"].get("content") or "")
    for llm in llms.values():
        llm.close()
    return stats


def compare(rounds: int, types: tuple[str, ...]) -> dict:
    """Every candidate type: speed against the base, the training effect it keeps."""
    from players.local import default_gguf
    with tempfile.TemporaryDirectory() as tmp:
        made = child("bench.checkpoint", "make", tmp, ",".join(types), timeout=1800)
        paths = {"base": str(default_gguf()), **{k: v["path"] for k, v in made["types"].items()}}
        speed = child("bench.checkpoint", "measure", json.dumps(paths), str(rounds), timeout=1800)
        margin = child("bench.checkpoint", "margins", json.dumps({**paths, "exact": made["exact"]}),
                       os.path.join(tmp, "pairs.jsonl"), timeout=1800)
    base_rate = speed["base"]["tokens"] / speed["base"]["cpu_seconds"]
    learned = margin["exact"] - margin["base"]
    out = {"rounds": rounds, "steps": made["steps"], "train_seconds": made["train_seconds"],
           "base_tokens_per_s": base_rate,
           "base_wall_tokens_per_s": speed["base"]["tokens"] / speed["base"]["seconds"], "margin_base": margin["base"], "margin_exact": margin["exact"],
           "load_average": os.getloadavg(), "types": {}}
    for kind in types:
        rate = speed[kind]["tokens"] / speed[kind]["cpu_seconds"]
        same = sum(a == b for a, b in zip(speed[kind]["texts"], speed["f16"]["texts"])) if "f16" in speed else None
        out["types"][kind] = {**made["types"][kind], "tokens_per_s": rate, "speed_ratio": rate / base_rate,
                              "wall_tokens_per_s": speed[kind]["tokens"] / speed[kind]["seconds"],
                              "margin": margin[kind], "kept": (margin[kind] - margin["base"]) / learned if learned else None,
                              "greedy_same_as_f16": same}
    return out


def _pct(x: float | None) -> str:
    return "n/a (nothing learned)" if x is None else f"{x:.0%}"


def run(quick: bool = False) -> list[dict]:
    from arena.training.train import TrainOptions
    default = TrainOptions.gguf_type
    try:
        result = compare(4 if quick else 8, (default,) if quick else tuple(dict.fromkeys((default, *CANDIDATES))))
    except (Unavailable, ImportError) as exc:
        return [unavailable(NAME, UNIT, TARGET, str(exc))]
    ours = result["types"][default]
    value, reference, ratio = ours["tokens_per_s"], result["base_tokens_per_s"], ours["speed_ratio"]
    others = "; ".join(f"{k} {v['speed_ratio']:.2f}x speed, {_pct(v['kept'])} kept" for k, v in result["types"].items()
                       if k != default)
    note = (f"{result['rounds']} greedy generations of up to {MAX_TOKENS} tokens, models interleaved, tokens per "
            f"CPU-second of a one-thread decode (wall clock: {ours['wall_tokens_per_s']:.0f} vs "
            f"{result['base_wall_tokens_per_s']:.0f} tokens/s); checkpoint = "
            f"a real LoRA ({result['steps']} DPO steps on {len(PAIRS)} pairs) merged, {ours['changed']} tensors "
            f"{default.upper()} + {ours['copied']} copied ({ours['bytes'] / 2**20:.0f} MiB), base Q4_1; "
            f"margin chosen-rejected on the trained pairs: base {result['margin_base']:.2f}, exact child "
            f"{result['margin_exact']:.2f}, {default} child {ours['margin']:.2f} ({_pct(ours['kept'])} of the "
            f"learned margin kept)" + (f"; other types: {others}" if others else ""))
    return [figure(NAME, value, UNIT, reference, ratio, TARGET, ratio >= 0.8, note,
                   reference_engine="llama.cpp (base GGUF)", margin_kept=ours["kept"])]


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "make":
        emit(make(sys.argv[2], sys.argv[3]))
    elif cmd == "measure":
        emit(measure(json.loads(sys.argv[2]), int(sys.argv[3])))
    elif cmd == "margins":
        emit(margins(json.loads(sys.argv[2]), sys.argv[3]))
    elif cmd == "compare":
        print(json.dumps(compare(int(sys.argv[2]) if len(sys.argv) > 2 else 12, CANDIDATES), indent=2))
    else:
        print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
