"""llama.cpp's own server as the `local/` backend's batched decoder.

In-process llama-cpp-python decodes one sequence at a time, so with 8 matches in flight 7 wait.
`llama-server --parallel N` decodes up to N sequences in one batch (continuous batching): the
weights are read once per step for all of them, and multiplied as one matrix where ggml has a
kernel for the weights' type (so without AMX a Q4_1 model is decoded from its Q8_0 re-encoding:
players/served_model.py). players/local.py starts one server per
(model, adapter, slots) in this process, when the binary is built (scripts/build-llama-server.sh,
from the sdist of the installed llama-cpp-python: the same llama.cpp, nothing downloaded beyond
the package index), and speaks its OpenAI-compatible chat API over aiohttp.

The process is the arena's child: it is killed when the last backend using it closes, at exit
(atexit), and by the kernel if the arena dies (PR_SET_PDEATHSIG). A server that died is a
transient error for the call that found it dead, and the next call starts a new one.
"""
from __future__ import annotations

import asyncio
import atexit
import ctypes
import importlib.metadata
import logging
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp

from players.base import FATAL, TRANSIENT, BackendError
from players.served_model import served_gguf

logger = logging.getLogger(__name__)

_ERROR_LINE = re.compile(r"^\S+ E (.*)$")  # "0.00.652.377 E <message>": llama.cpp's error level
START_TIMEOUT_S = 120.0  # loading a multi-GB checkpoint from a cold disk can take a while


def binary() -> Path:
    """Where scripts/build-llama-server.sh puts llama-server (ARENA_LLAMA_SERVER overrides)."""
    override = os.environ.get("ARENA_LLAMA_SERVER")
    if override:
        return Path(override).expanduser()
    version = importlib.metadata.version("llama-cpp-python")
    return Path.home() / ".cache" / "arena" / f"llama-server-{version}" / "llama-server"


def available() -> bool:
    path = binary()
    return path.is_file() and os.access(path, os.X_OK)


def _die_with_parent() -> None:
    # Runs in the child before exec: the kernel sends SIGTERM when the spawning thread exits.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# PR_SET_PDEATHSIG fires when the *thread* that forked exits, so every server is spawned by this
# one long-lived worker thread (pool threads live until the interpreter exits), never by a
# short-lived thread that would take the server with it.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama-server-spawn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """One llama-server process for one model (+ adapter), started on first use."""

    def __init__(self, model: Path, adapter: str | None, parallel: int, ctx_per_slot: int):
        self.model, self.adapter, self.parallel, self.ctx_per_slot = model, adapter, parallel, ctx_per_slot
        self.decoded = model  # the file the process loads (players/served_model.py), set when it starts
        self.threads = 0  # llama.cpp threads of the next start; 0: players.local.threads()
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.ready = False  # answered /health since it was started: calls may be sent
        self.users = 0  # backends holding it; the process stops when the last one closes
        self._log = Path(tempfile.gettempdir()) / f"arena-llama-server-{os.getpid()}-{id(self):x}.log"
        self._starting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())
        self._gate: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())

    def command(self, port: int) -> list[str]:
        from players.local import threads  # the same thread count as the in-process path
        cmd = [str(binary()), "-m", str(self.decoded), "--host", "127.0.0.1", "--port", str(port),
               "--parallel", str(self.parallel), "-c", str(self.parallel * self.ctx_per_slot),
               "-t", str(self.threads or threads()), "--cont-batching", "--jinja", "--no-webui", "--no-warmup"]
        if self.adapter:
            cmd += ["--lora", self.adapter]
        return cmd

    def slots(self) -> asyncio.Semaphore:
        """What a call waits for before it runs: the server's free slots (per event loop)."""
        loop = asyncio.get_running_loop()
        gate = self._gate.get(loop)
        if gate is None:
            gate = self._gate[loop] = asyncio.Semaphore(self.parallel)
        return gate

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def last_words(self, lines: int = 3) -> str:
        """What its log says went wrong: the first error lines (the cause comes before the
        consequences), else the last lines."""
        try:
            log = self._log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        errors = [m.group(1) for m in map(_ERROR_LINE.match, log) if m]
        return " | ".join(line.strip() for line in (errors[:lines] or log[-lines:]))

    async def ensure(self) -> str:
        """The server's base URL, started (again, if it died) and healthy. Called while a call waits
        for its slot (players.local.Slots), so a start is queueing, not the call's generation time."""
        if self.ready and self.alive():
            return self.url
        loop = asyncio.get_running_loop()
        lock = self._starting.setdefault(loop, asyncio.Lock())
        async with lock:
            if not (self.ready and self.alive()):
                async with aiohttp.ClientSession() as session:
                    await self._start(session)
        return self.url

    async def _start(self, session: aiohttp.ClientSession) -> None:
        self.stop()
        from players.local import threads
        try:
            self.decoded = await asyncio.to_thread(served_gguf, self.model, threads())
        except OSError as exc:  # no room in the cache, say: the model as it is still decodes, unbatched
            logger.warning("llama-server decodes %s as it is: %s", self.model.name, exc)
            self.decoded = self.model
        port = _free_port()
        log = self._log.open("wb")
        try:
            self.proc = await asyncio.wrap_future(_SPAWNER.submit(
                subprocess.Popen, self.command(port), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent))
        except OSError as exc:
            raise BackendError(f"could not start llama-server ({binary()}): {exc.strerror or exc}", FATAL) from None
        finally:
            log.close()
        _running.add(self)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                # Transient: a port taken between choosing and binding it is worth another start.
                words = self.last_words()
                code = self.proc.returncode
                self.stop()
                raise BackendError(f"llama-server exited with code {code} while starting: {words}", TRANSIENT)
            try:
                async with session.get(self.url + "/health", timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        self.ready = True
                        return
            except (TimeoutError, aiohttp.ClientError):
                pass  # not listening yet, or still loading the model (503)
            if time.monotonic() > deadline:
                words = self.last_words()
                self.stop()
                raise BackendError(f"llama-server did not become healthy within {START_TIMEOUT_S:g}s: {words}",
                                   TRANSIENT)
            await asyncio.sleep(0.1)

    async def chat(self, session: aiohttp.ClientSession, payload: dict[str, Any]) -> dict[str, Any]:
        url = await self.ensure()
        try:
            async with session.post(url + "/v1/chat/completions", json=payload) as resp:
                body = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, ValueError) as exc:
            # A dying process closes its sockets before it can be reaped: give it a moment to exit.
            for _ in range(20):
                if not self.alive():
                    break
                await asyncio.sleep(0.05)
            if not self.alive():
                code = self.proc.returncode if self.proc is not None else "?"
                raise BackendError(f"llama-server exited (code {code}) during the call; it is restarted on "
                                   f"the next one: {self.last_words()}", TRANSIENT) from None
            raise BackendError(f"llama-server: {type(exc).__name__}: {exc}", TRANSIENT) from None
        if status != 200:
            message = (body.get("error") or {}).get("message") if isinstance(body, dict) else None
            kind = FATAL if status in (400, 404, 422) else TRANSIENT  # a bad request stays bad
            raise BackendError(f"llama-server answered {status}: {message or body}", kind)
        return body

    def stop(self) -> None:
        proc, self.proc, self.ready = self.proc, None, False
        _running.discard(self)
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._log.unlink(missing_ok=True)


_servers: dict[tuple[str, str | None, int], LlamaServer] = {}
_servers_lock = threading.Lock()
_running: set[LlamaServer] = set()


def server_for(model: Path, adapter: str | None, parallel: int, ctx_per_slot: int) -> LlamaServer:
    """Variants that differ only in sampling or system prompt share one server."""
    key = (str(model.resolve()), adapter, parallel)
    with _servers_lock:
        if key not in _servers:
            _servers[key] = LlamaServer(model, adapter, parallel, ctx_per_slot)
        return _servers[key]


def stop_all() -> None:
    for server in list(_running):
        server.stop()


atexit.register(stop_all)
