"""Write fine-tuned (merged) weights back into a GGUF that llama.cpp runs at full speed.

The source GGUF supplies everything but the weights that changed: metadata, tokenizer and
chat template are copied key by key, and every tensor the fine-tune did not touch is
copied byte for byte in its original quantization. `arena train` writes changed tensors as Q8_0 by
default (0.74-0.83x the Q4_1 base's decode speed, keeps ~98% of a trained log-prob margin),
F16/F32 (exact, F16 about half the base's speed), or Q5_1/Q4_1 (the base's speed, but a small
LoRA delta is mostly rounded back onto the base's own grid: about 50% / 8% of the margin
kept; bench/checkpoint.py). Needs the `gguf` package (training extra).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arena.files import atomic_write

CHANGED_TYPES = ("f16", "q8_0", "q5_1", "q4_1", "f32")


class GGUFExportError(Exception):
    """The model cannot be written back (unsupported architecture, missing tensors...)."""


@dataclass
class ExportReport:
    path: Path
    changed: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)
    bytes: int = 0


def permute_for_gguf(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp keeps the two rotary halves of every q/k head interleaved, Hugging Face keeps
    them in two blocks; this reorders rows from the HF layout to llama.cpp's (the inverse of
    what transformers does when it loads a GGUF)."""
    rows = w.shape[0]
    half = rows // n_head // 2
    return w.reshape(n_head, 2, half, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _field(reader: Any, key: str) -> Any:
    f = reader.fields.get(key)
    return None if f is None else f.contents()


def write_merged_gguf(source: str | Path, state: dict[str, Any], out: str | Path, *, changed_type: str = "f16",
                      name: str | None = None, description: str | None = None,
                      rewrite_all: bool = False) -> ExportReport:
    """Write `state` (a Hugging Face llama state dict, torch tensors or arrays) as a GGUF at
    `out`, using `source` (the GGUF the model was loaded from) for everything else.

    rewrite_all: write every tensor in `changed_type`, even unchanged ones (for tests of
    the layout conversion)."""
    import gguf
    from gguf import GGMLQuantizationType as Q

    if changed_type not in CHANGED_TYPES:
        raise GGUFExportError(f"changed tensors can be written as {', '.join(CHANGED_TYPES)}, not {changed_type!r}")
    reader = gguf.GGUFReader(str(source))
    arch = _field(reader, "general.architecture")
    if arch != "llama":
        raise GGUFExportError(f"{source}: writing back {arch!r} models is not supported (llama only)")
    n_head = int(_field(reader, "llama.attention.head_count"))
    n_kv = int(_field(reader, "llama.attention.head_count_kv") or n_head)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, int(_field(reader, "llama.block_count")))

    weights: dict[str, np.ndarray] = {}
    for key, value in state.items():
        gname = names.get_name(key, try_suffixes=(".weight", ".bias"))
        if gname is None:
            continue  # buffers such as rotary caches
        arr = value.detach().to("cpu").float().numpy() if hasattr(value, "detach") else np.asarray(value, np.float32)
        weights[gname] = arr  # the name keeps its .weight/.bias suffix
    missing = [t.name for t in reader.tensors if t.name not in weights]
    if missing:
        raise GGUFExportError(f"the fine-tuned model lacks {len(missing)} tensor(s) of {source}, e.g. {missing[0]}")

    target = {"f16": Q.F16, "q8_0": Q.Q8_0, "q5_1": Q.Q5_1, "q4_1": Q.Q4_1, "f32": Q.F32}[changed_type]
    report = ExportReport(Path(out))
    planned: list[tuple[str, np.ndarray, Any]] = []  # name, data, raw dtype (None: from the numpy dtype)
    types_left: set[int] = set()
    for t in reader.tensors:
        new = weights[t.name]
        if ".attn_q." in t.name:
            new = permute_for_gguf(new, n_head)
        elif ".attn_k." in t.name:
            new = permute_for_gguf(new, n_kv)
        old = gguf.quants.dequantize(t.data, t.tensor_type).reshape(new.shape)
        scale = float(np.abs(old).max()) or 1.0
        if not rewrite_all and float(np.abs(new - old).max()) <= 1e-6 * scale:
            planned.append((t.name, t.data, t.tensor_type))
            report.copied.append(t.name)
            types_left.add(int(t.tensor_type))
            continue
        report.changed.append(t.name)
        if t.tensor_type == Q.F32 or new.ndim == 1 or target == Q.F32:  # norms stay F32, as llama.cpp expects
            planned.append((t.name, new.astype(np.float32), None))
        elif target == Q.F16:
            planned.append((t.name, new.astype(np.float16), None))
        else:
            planned.append((t.name, gguf.quants.quantize(new.astype(np.float32), target), target))

    file_type = _field(reader, "general.file_type")
    original = {gguf.LlamaFileType.MOSTLY_Q4_0: Q.Q4_0, gguf.LlamaFileType.MOSTLY_Q4_1: Q.Q4_1,
                gguf.LlamaFileType.MOSTLY_Q5_1: Q.Q5_1, gguf.LlamaFileType.MOSTLY_Q8_0: Q.Q8_0,
                gguf.LlamaFileType.MOSTLY_F16: Q.F16}.get(file_type)
    if report.changed and (original is None or int(original) not in types_left):
        # say what most of the file now is, for tools that display it
        file_type = int({Q.F16: gguf.LlamaFileType.MOSTLY_F16, Q.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0,
                         Q.Q5_1: gguf.LlamaFileType.MOSTLY_Q5_1, Q.Q4_1: gguf.LlamaFileType.MOSTLY_Q4_1,
                         Q.F32: gguf.LlamaFileType.ALL_F32}[target])

    out = Path(out)
    with atomic_write(out) as tmp:  # never a half-written model under the real name
        writer = gguf.GGUFWriter(str(tmp), arch)
        for f in reader.fields.values():
            if f.name == "general.architecture" or f.name.startswith("GGUF."):
                continue  # written by GGUFWriter itself
            vtype = f.types[0]
            sub = f.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
            value = f.contents()
            if f.name == "general.name" and name:
                value = name
            elif f.name == "general.file_type":
                value = file_type
            writer.add_key_value(f.name, value, vtype, sub_type=sub)
        if description:
            writer.add_description(description)
        for tname, data, raw in planned:
            if raw is None:
                writer.add_tensor(tname, data)
            else:
                writer.add_tensor(tname, data, raw_shape=data.shape, raw_dtype=raw)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    report.bytes = out.stat().st_size
    return report


def verify(path: str | Path, prompt: str = "Say hello in one short sentence.",
           max_tokens: int = 24) -> tuple[str, float]:
    """Load the GGUF with llama.cpp and generate greedily: (text, tokens per second)."""
    from players.local import on_llama_thread
    return on_llama_thread(_verify, path, prompt, max_tokens)


def _verify(path: str | Path, prompt: str, max_tokens: int) -> tuple[str, float]:
    import time

    from llama_cpp import Llama
    llm = Llama(model_path=str(path), n_ctx=512, verbose=False)
    try:
        started = time.perf_counter()
        out = llm.create_chat_completion([{"role": "user", "content": prompt}], max_tokens=max_tokens, temperature=0.0)
        elapsed = time.perf_counter() - started
    finally:
        llm.close()
    n = (out.get("usage") or {}).get("completion_tokens", 0)
    return out["choices"][0]["message"].get("content") or "", n / elapsed if elapsed > 0 else 0.0


def completion_logprob(llm: Any, prompt_text: str, full_text: str) -> float:
    """Sum of log-probabilities llama.cpp gives the tokens of `full_text` after `prompt_text`
    (both rendered with the chat template). `llm` needs logits_all=True."""
    p = llm.tokenize(prompt_text.encode("utf-8"), add_bos=False, special=True)
    full = llm.tokenize(full_text.encode("utf-8"), add_bos=False, special=True)
    start = 0
    while start < min(len(p), len(full)) and p[start] == full[start]:
        start += 1
    start = max(start, 1)
    if not getattr(llm, "_logits_all", True):  # eval would leave llm.scores unwritten
        raise ValueError("completion_logprob needs a Llama created with logits_all=True")
    # llm.scores holds the n_ctx rows asked for; llm.n_ctx() is llama.cpp's context, rounded up to 256
    if len(full) > len(llm.scores):
        raise ValueError(f"{len(full)} tokens do not fit the model's context of {len(llm.scores)}")
    llm.reset()
    llm.eval(full)
    scores = np.asarray(llm.scores[: len(full)], dtype=np.float64)
    total = 0.0
    for i in range(start, len(full)):
        row = scores[i - 1]
        m = row.max()
        total += float(row[full[i]] - m - np.log(np.exp(row - m).sum()))
    return total
