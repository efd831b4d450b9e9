"""openai-api/<service>/<model>: any chat-completions server, spoken to with a bare aiohttp client.

Where throughput matters (vLLM, SGLang, llama.cpp server, Ollama fleets) the official SDK's
typed layers cost more CPU per call than the HTTP itself (docs/benchmarks.md). This client
keeps what the SDK path gives (players/openai_backend.py: the same options, fleets, request
body, reply parsing and error classification) and makes single attempts; the gateway retries.

Connections: one aiohttp session and connection pool per server, shared by every variant of
this process that calls the same server with the same pool size, closed with the last of them.

Streaming (`stream = true`, the default): the answer comes as server-sent events, so the call
records its first-token time and its generation rate. A server that answers a streamed request
with a plain JSON body is read as such.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

import aiohttp
import orjson

from arena.records import Completion, Variant
from players.base import FATAL, TRANSIENT, BackendError, Request, classify_default
from players.keys import PLACEHOLDER_KEY
from players.openai_backend import Endpoint, Fleet, Target, chat_body, reply_text
from players.sdk_common import (
    ChatReply,
    _count,
    _logprobs,
    body_message,
    chat_completion_fields,
    classify_status,
    read_json,
)

# Shared pools: (server URL, pool size, key digest, event loop) -> [session, users]. The session
# carries the auth header (set once, not merged into every request); a session belongs to the loop
# it was made on, so a test or command that runs several loops gets one per loop.
_POOLS: dict[tuple[str, int, str, int], list[Any]] = {}


class WireBackend(Fleet):
    cacheable = True

    def __init__(self, variant: Variant, target: Target):
        super().__init__(variant, target)
        self.stream = variant.options.get("stream", True) is not False
        # A server that needs no key (on this machine or a private network) gets no Authorization
        # header: the placeholder the SDK must send would only cost every request a header.
        self._headers = {} if self._api_key == PLACEHOLDER_KEY else {"Authorization": f"Bearer {self._api_key}"}
        self._key_digest = hashlib.sha256(self._api_key.encode()).hexdigest()
        self._pools: dict[int, tuple[str, int, str, int]] = {}  # id(endpoint) -> its key in _POOLS
        self._labels = {id(ep): self._label(ep) for ep in self.endpoints}  # scrubbed once, not per call

    def _session(self, ep: Endpoint) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if ep.client is not None:
            if ep.client._loop is loop:
                return ep.client
            self._release(ep).detach()  # made under an event loop that has ended: cannot be closed on it
        pool = (str(ep.url), self.pool_size, self._key_digest, id(loop))
        entry = _POOLS.get(pool)
        if entry is None or entry[0].closed:
            connector = aiohttp.TCPConnector(limit=self.pool_size, limit_per_host=self.pool_size)
            # The gateway bounds every attempt (the variant's `timeout` or call_timeout_s), so the
            # session sets no timer of its own per request; only a connection gets one, to fail fast.
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=min(10.0, self.timeout_s))
            session = aiohttp.ClientSession(connector=connector, timeout=timeout, headers=self._headers)
            entry = _POOLS[pool] = [session, 0]
        entry[1] += 1
        self._pools[id(ep)] = pool
        ep.client = entry[0]
        return ep.client

    async def complete(self, request: Request) -> Completion:
        ep = self._pick()
        body = chat_body(self.target.model, request, self._max_tokens_param, self.variant.adapter)
        if self.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        label = self._labels[id(ep)]
        ep.in_flight += 1
        ep.calls += 1
        started = time.perf_counter()
        first: float | None = None
        try:
            async with self._session(ep).post(f"{ep.url}/chat/completions", data=_json_body(body)) as resp:
                if resp.status != 200:
                    raise await _status_error(resp, label)
                if resp.content_type == "text/event-stream":
                    reply, first, chunks = await _read_events(resp, label)
                else:  # not streamed (asked not to, or a server that does not stream)
                    reply, chunks = chat_completion_fields(await resp.read(), label), 0
        except BackendError:
            raise
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            self._rest(ep)  # never reached the server
            raise BackendError(f"{label}: connection failed ({_cause(exc)})", TRANSIENT) from None
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
            raise BackendError(f"{label}: request timed out", TRANSIENT) from None
        except aiohttp.ClientError as exc:  # dropped mid-answer, a broken body
            raise BackendError(f"{label}: connection failed ({type(exc).__name__})", TRANSIENT) from None
        finally:
            ep.in_flight -= 1
        ended = time.perf_counter()
        rate = None
        tokens = reply.output_tokens
        if first is not None:
            # A server that ignores stream_options sends no usage (llama-cpp-python's): its
            # OpenAI-compatible streams carry one token a chunk, so the chunks are the count.
            tokens = tokens if isinstance(tokens, int) and tokens else chunks
            if tokens > 1 and ended > first:
                rate = (tokens - 1) / (ended - first)  # decode rate after the first token, as vLLM's bench
        return Completion(text=reply_text(request, reply.text), input_tokens=reply.input_tokens,
                          output_tokens=tokens, latency_s=ended - started,
                          finish_reason=reply.finish_reason, constrained=request.constraint is not None,
                          top_logprobs=reply.top_logprobs if request.logprobs else None,
                          first_token_s=None if first is None else first - started, tokens_per_s=rate)

    def classify(self, exc: BaseException) -> tuple[str, float | None]:
        return classify_default(exc)

    def _release(self, ep: Endpoint) -> Any:
        """Let go of the endpoint's shared session; returns it when this was its last user, else a
        stand-in whose close/detach do nothing."""
        pool, ep.client = self._pools.pop(id(ep), None), None
        entry = _POOLS.get(pool) if pool is not None else None
        if entry is None:
            return _Nothing()
        entry[1] -= 1
        if entry[1] > 0:
            return _Nothing()
        del _POOLS[pool]
        return entry[0]

    async def aclose(self) -> None:
        for ep in self.endpoints:
            await self._release(ep).close()


class _Nothing:
    def detach(self) -> None:
        pass

    async def close(self) -> None:
        pass


def _json_body(body: dict[str, Any]) -> aiohttp.BytesPayload:
    """The request body as JSON, as aiohttp's `json=` sends it, but encoded by orjson (a fraction of
    json's CPU, which counts at a thousand calls in flight). json encodes what orjson refuses (e.g. a
    lone surrogate in a prompt, which json escapes) and any body with a null, which orjson also writes
    for NaN."""
    try:
        raw: bytes | None = orjson.dumps(body)
    except TypeError:  # orjson.JSONEncodeError too
        raw = None
    if raw is None or b"null" in raw:
        raw = json.dumps(body).encode()
    return aiohttp.BytesPayload(raw, content_type="application/json")


def _cause(exc: BaseException) -> str:
    inner = getattr(exc, "os_error", None) or exc.__cause__
    return type(inner).__name__ if inner is not None else type(exc).__name__


async def _status_error(resp: aiohttp.ClientResponse, label: str) -> BackendError:
    """The error of a non-200 answer, classified as the SDK path classifies it (sdk_common)."""
    try:
        body: Any = read_json(await resp.read())
    except (ValueError, aiohttp.ClientError):
        body = None
    kind, after = classify_status(resp.status, resp.headers, body)
    reason = body_message(body, resp.reason or "error")
    return BackendError(f"{label} {resp.status}: {reason}", kind, after if kind != FATAL else None)


async def _read_events(resp: aiohttp.ClientResponse, label: str) -> tuple[ChatReply, float | None, int]:
    """A streamed answer: (the reply, when its first text came, how many text chunks came), read as
    the bytes arrive (a line may span two reads)."""
    events = _Events(label)
    rest = b""
    async for data in resp.content.iter_any():
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if events.line(line):
                return events.reply()
    if rest:
        events.line(rest)
    if not events.done and events.finish is None:
        raise BackendError(f"{label}: the stream ended before the answer did", TRANSIENT)
    return events.reply()


class _Events:
    """The state of one chat-completions event stream."""

    def __init__(self, label: str):
        self.label = label
        self.parts: list[str] = []
        self.usage: dict[str, Any] = {}
        self.finish: str | None = None
        self.logprobs: list[dict[str, float]] | None = None
        self.first: float | None = None
        self.done = False

    def line(self, raw: bytes) -> bool:
        """Take one line of the stream; True at `data: [DONE]`."""
        line = raw.strip()
        if not line.startswith(b"data:"):
            return False  # blank separators, comments, event names
        data = line[5:].strip()
        if data == b"[DONE]":
            self.done = True
            return True
        label = self.label
        try:
            chunk = read_json(data)
        except ValueError:
            raise BackendError(f"{label}: a streamed chunk was not valid JSON", TRANSIENT) from None
        if not isinstance(chunk, dict):
            raise BackendError(f"{label}: a streamed chunk was not an object", TRANSIENT)
        if "error" in chunk:  # vLLM reports a failure mid-stream this way
            raise BackendError(f"{label}: stream failed: {body_message(chunk, 'error')}", TRANSIENT)
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        choices = chunk.get("choices")
        if not isinstance(choices, list) or (choices and not isinstance(choices[0], dict)):
            raise BackendError(f"{label}: a streamed chunk had no choices", TRANSIENT)
        if not choices:
            return False  # the usage chunk
        choice = choices[0]
        delta = choice.get("delta")
        content = delta.get("content") if isinstance(delta, dict) else None
        if content:
            if not isinstance(content, str):
                raise BackendError(f"{label}: streamed content is not text", TRANSIENT)
            if self.first is None:
                self.first = time.perf_counter()
            self.parts.append(content)
        if isinstance(choice.get("finish_reason"), str):
            self.finish = choice["finish_reason"]
        more = _logprobs(choice.get("logprobs"), label)
        if more is not None:
            self.logprobs = (self.logprobs or []) + more
        return False

    def reply(self) -> tuple[ChatReply, float | None, int]:
        reply = ChatReply("".join(self.parts), _count(self.usage.get("prompt_tokens")),
                          _count(self.usage.get("completion_tokens")), self.finish, self.logprobs)
        return reply, self.first, len(self.parts)
