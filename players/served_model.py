"""The GGUF that llama-server decodes: the model itself, or a Q8_0 re-encoding of its weights.

Batching pays only where ggml's CPU backend has a matrix kernel that multiplies several sequences
at once: llamafile's tinyBLAS for Q8_0, Q4_0, F16 and BF16, repacked GEMMs for Q4_0 and the K
quants, and on a CPU with AMX (in a build that has it: the README's clang build) the AMX kernels,
which take Q4_1 too. Without AMX, Q4_1 and Q5_1 have none: each sequence's dot products are
computed one by one, so 8 sequences cost nearly 8 times one. The embedded model ships as Q4_1 (its
token embedding Q8_0): without AMX, 8 sequences at once gave 1.6x the tokens per CPU-second of one,
its Q8_0 re-encoding 2.3x (docs/benchmarks.md); with AMX the model is decoded as it is, faster than
its re-encoding. Q8_0 keeps the values: a Q4_1 weight is d*q + m with q in 0..15, and Q8_0's step,
a block's largest magnitude / 127, is about 1/17 of Q4_1's d, so the re-encoding moves a weight by
at most ~3% of one Q4_1 step. Q4_0 batches faster still but would change the model. Tensors
already Q8_0 (a fine-tuned child's changed ones) are copied as they are.

The re-encoding is llama.cpp's own quantizer (llama_model_quantize, as `llama-quantize` runs it),
written once under ~/.cache/arena/served/ (ARENA_SERVED_MODELS names another folder) and reused
while the source file is unchanged (its path, size and modification time name the copy).
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import threading
from pathlib import Path

# Weight types without a batched CPU kernel, by llama_ftype (llama.h) of a file made of them; with
# AMX, Q4_1 has one (ggml-cpu/amx: qtype_has_amx_kernels).
UNBATCHED = {3: "Q4_1", 9: "Q5_1"}
AMX_BATCHED = {"Q4_1"}
_lock = threading.Lock()
_decided: dict[tuple[str, int, int, str], Path] = {}


def cache_dir() -> Path:
    return Path(os.environ.get("ARENA_SERVED_MODELS") or Path.home() / ".cache" / "arena" / "served")


@functools.cache
def amx() -> bool:
    """Whether ggml multiplies with AMX here. llama-server is built as llama-cpp-python is (the
    README's compiler, scripts/build-llama-server.sh), so the library in this process answers for it."""
    import llama_cpp
    return b"AMX_INT8 = 1" in llama_cpp.llama_print_system_info()


def unbatched_types() -> dict[int, str]:
    """The weight types this build multiplies one sequence at a time, by llama_ftype."""
    return {k: v for k, v in UNBATCHED.items() if not (amx() and v in AMX_BATCHED)}


def file_type(model: Path) -> int | None:
    """The GGUF's general.file_type, read with its vocabulary only (no weights loaded)."""
    import llama_cpp
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    handle = llama_cpp.llama_model_load_from_file(str(model).encode(), params)
    if not handle:
        return None
    try:
        buf = ctypes.create_string_buffer(32)
        if llama_cpp.llama_model_meta_val_str(handle, b"general.file_type", buf, len(buf)) < 0:
            return None
        return int(buf.value)
    except ValueError:
        return None
    finally:
        llama_cpp.llama_model_free(handle)


def unbatched(model: Path) -> bool:
    """Whether some of the model's weights are of a type without batched kernels. A fine-tuned child
    (arena/training/gguf.py) mixes its changed tensors' type with its base's, and its file type names
    only one of them; so the tensors are read, with gguf-py, which the training extra that wrote the
    child brings. Without gguf-py the file type decides."""
    try:
        import gguf
    except ImportError:
        return file_type(model) in unbatched_types()
    kinds = set(unbatched_types().values())
    return any(t.tensor_type.name in kinds for t in gguf.GGUFReader(str(model)).tensors)


def served_gguf(model: Path, threads: int) -> Path:
    """The file llama-server should load for `model`: a cached Q8_0 re-encoding when the model's
    weights are of a type without batched kernels, else the model itself."""
    resolved = model.resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_size, stat.st_mtime_ns, str(cache_dir()))
    with _lock:  # servers of several variants may start together: one re-encoding each
        if key in _decided:
            return _decided[key]
        name = hashlib.sha256(repr(key[:3]).encode()).hexdigest()[:16]
        out = cache_dir() / f"{resolved.stem}-{name}.q8_0.gguf"
        if not out.is_file():
            if not unbatched(resolved):
                _decided[key] = resolved
                return resolved
            _reencode(resolved, out, threads)
        _decided[key] = out
        return out


def _reencode(source: Path, out: Path, threads: int) -> None:
    import llama_cpp
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f"{out.name}.{os.getpid()}.part")  # renamed when whole: never half a model
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
    params.allow_requantize = True  # from Q4_1's values, not from the original floats (not shipped)
    params.nthread = threads
    try:
        if llama_cpp.llama_model_quantize(str(source).encode(), str(partial).encode(), ctypes.byref(params)) != 0:
            raise OSError(f"llama.cpp could not re-encode {source.name} as Q8_0")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
