"""A local server that speaks the OpenAI chat-completions and Anthropic messages wire
formats, answers deterministically, and fails on purpose.

Used by the tests and the benchmarks to drive the real SDK clients over real HTTP:

    async with FaultServer(text="e4", faults=["429", "500"], retry_after=0.2) as srv:
        ...  # base_url = srv.openai_url  (or srv.url for Anthropic)

    with FaultServer(failure_rate=0.3, seed=1) as srv:   # in a background thread
        ...

Faults: "429" (with Retry-After / retry-after-ms when set), "500", "503", "529",
"401", "400", "404", "slow" (answers after `slow_s`), "malformed" (a 200 whose body is
not JSON), "wrong-schema" (a 200 whose JSON is not the wire format's), "drop" (closes
the connection without answering). `faults` applies to the first requests in arrival
order; after it, `failure_rate` (seeded) picks from
`failure_kinds`. `max_in_flight=K` answers 429 whenever more than K requests are
being served at once, the way an overloaded provider does. `api_key` makes the server
demand that key (401 otherwise, echoing the wrong key back like some providers do).

Replies: `text` (a string, or a list used in turn), or `reply(body) -> str`, or
`echo=True` (the last user message). Token usage counts words, so costs are exact.
A call with a format (OpenAI `response_format` json_schema, Anthropic forced `tools`) gets its
reply in that shape: JSON text as it is, other text wrapped as {"answer": text};
`obey_formats=False` plays a server that ignores formats. `logprobs=true` gets per-word logprobs.

Streaming: an OpenAI request with `stream: true` is answered with server-sent events, one chunk per
word (choices[0].delta.content), the finish_reason chunk, a usage chunk when
`stream_options.include_usage` is set, then `data: [DONE]`; `token_s` seconds pass between words.
`streams=False` plays a server that ignores `stream` and answers with one JSON body.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

FAULTS = ("429", "500", "503", "529", "401", "400", "404", "slow", "malformed", "wrong-schema", "drop")


class FaultServer:
    def __init__(self, *, text: str | Sequence[str] = "ok", reply: Callable[[dict[str, Any]], str] | None = None,
                 echo: bool = False, latency_s: float = 0.0, faults: Sequence[str] = (),
                 failure_rate: float = 0.0, failure_kinds: Sequence[str] = ("500", "503", "429", "drop"),
                 seed: int = 0, retry_after: float | None = None, retry_after_ms: float | None = None,
                 slow_s: float = 30.0, max_in_flight: int | None = None, api_key: str | None = None,
                 model_name: str = "fault-model", host: str = "127.0.0.1", port: int = 0,
                 keep_headers: int = 10_000, obey_formats: bool = True, streams: bool = True,
                 token_s: float = 0.0):
        for f in [*faults, *(failure_kinds if failure_rate else ())]:
            if f not in FAULTS:
                raise ValueError(f"unknown fault {f!r} (known: {', '.join(FAULTS)})")
        self.texts = [text] if isinstance(text, str) else list(text)
        self.reply, self.echo, self.latency_s = reply, echo, latency_s
        self.faults = deque(faults)
        self.failure_rate, self.failure_kinds = failure_rate, tuple(failure_kinds)
        self.retry_after, self.retry_after_ms, self.slow_s = retry_after, retry_after_ms, slow_s
        self.max_in_flight, self.api_key, self.model_name = max_in_flight, api_key, model_name
        self.host, self.port = host, port
        self.obey_formats = obey_formats  # False: a server that ignores response_format and tools
        self.streams, self.token_s = streams, token_s  # streams False: a server that ignores `stream`
        self._rng = random.Random(seed)
        self._turn = itertools.count()
        # What a test can look at.
        self.requests = 0  # chat/messages requests received
        self.answered = 0  # successful answers
        self.in_flight = 0
        self.max_seen_in_flight = 0
        self.faults_sent: Counter[str] = Counter()
        self.headers: deque[dict[str, str]] = deque(maxlen=keep_headers)
        self.bodies: deque[dict[str, Any]] = deque(maxlen=keep_headers)
        self.arrivals: deque[float] = deque(maxlen=keep_headers)
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- addresses ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Root URL; the Anthropic SDK's base_url."""
        return f"http://{self.host}:{self.port}"

    @property
    def openai_url(self) -> str:
        """The OpenAI SDK's base_url."""
        return self.url + "/v1"

    # -- life cycle --------------------------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_get("/v1/models", self._models)
        return app

    async def start(self) -> "FaultServer":
        # Stopping must not wait for "slow" answers still sleeping: they are abandoned.
        self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=4096)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FaultServer":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __enter__(self) -> "FaultServer":
        """Serve from a background thread, for synchronous code."""
        started = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the starting thread
                errors.append(exc)
                started.set()
                return
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.stop())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="fault-server", daemon=True)
        self._thread.start()
        started.wait(30)
        if errors:
            raise errors[0]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._thread = None

    # -- behaviour ---------------------------------------------------------------------------
    def _next_fault(self) -> str | None:
        if self.faults:
            return self.faults.popleft()
        if self.failure_rate and self._rng.random() < self.failure_rate:
            return self._rng.choice(self.failure_kinds)
        return None

    def _text(self, body: dict[str, Any]) -> str:
        if self.reply is not None:
            return self.reply(body)
        if self.echo:
            users = [m for m in body.get("messages", []) if m.get("role") == "user"]
            return _content(users[-1]) if users else ""
        return self.texts[next(self._turn) % len(self.texts)]

    async def _serve(self, request: web.Request, flavour: str) -> web.StreamResponse:
        self.requests += 1
        self.arrivals.append(time.monotonic())
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        self.in_flight += 1
        self.max_seen_in_flight = max(self.max_seen_in_flight, self.in_flight)
        try:
            if self.api_key is not None:
                sent = request.headers.get("x-api-key") or request.headers.get("Authorization", "")
                sent = sent.removeprefix("Bearer ").strip()
                if sent != self.api_key:
                    return self._error(flavour, 401, f"Incorrect API key provided: {sent}", "authentication_error")
            if self.max_in_flight is not None and self.in_flight > self.max_in_flight:
                return self._fault(flavour, "429")
            fault = self._next_fault()
            if fault == "drop":
                self.faults_sent[fault] += 1
                if request.transport is not None:
                    request.transport.abort()
                raise web.HTTPServiceUnavailable()  # never reaches the client: the socket is gone
            try:
                body = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                return self._error(flavour, 400, "request body is not JSON", "invalid_request_error")
            self.bodies.append(body)
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if fault == "slow":
                self.faults_sent[fault] += 1
                await asyncio.sleep(self.slow_s)
            elif fault is not None:
                return self._fault(flavour, fault)
            if not isinstance(body.get("messages"), list):
                return self._error(flavour, 400, "messages must be a list", "invalid_request_error")
            text = self._text(body)
            self.answered += 1
            shaped = body if self.obey_formats else {k: v for k, v in body.items()
                                                     if k not in ("response_format", "tools", "tool_choice")}
            answer = _answer(flavour, shaped, text, self.model_name)
            if flavour == "openai" and body.get("stream") is True and self.streams:
                return await self._stream(request, body, answer)
            return web.json_response(answer)
        finally:
            self.in_flight -= 1

    async def _stream(self, request: web.Request, body: dict[str, Any], answer: dict[str, Any]) -> web.StreamResponse:
        """`answer` as the chat-completions stream: one chunk per word, as servers send per token."""
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        choice = answer["choices"][0]
        head = {k: answer[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}

        async def send(chunk: dict[str, Any]) -> None:
            await resp.write(b"data: " + json.dumps(head | chunk).encode() + b"\n\n")

        lps = (choice.get("logprobs") or {}).get("content")
        words = re.findall(r"\s*\S+", choice["message"]["content"]) or [""]
        for i, word in enumerate(words):
            if i and self.token_s:
                await asyncio.sleep(self.token_s)
            delta: dict[str, Any] = {"content": word} | ({"role": "assistant"} if i == 0 else {})
            part: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": None}
            if lps is not None:
                part["logprobs"] = {"content": lps[i:i + 1]}
            await send({"choices": [part]})
        await send({"choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            await send({"choices": [], "usage": answer["usage"]})
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    def _fault(self, flavour: str, fault: str) -> web.Response:
        self.faults_sent[fault] += 1
        if fault == "malformed":
            return web.Response(status=200, text='{"id": "x", "choices": [', content_type="application/json")
        if fault == "wrong-schema":
            key = "choices" if flavour == "openai" else "content"
            return web.json_response({"id": "x", key: {"nested": [{"deep": None}]}, "usage": "many"})
        if fault == "429":
            headers = {}
            if self.retry_after is not None:
                headers["Retry-After"] = f"{self.retry_after:g}"
            if self.retry_after_ms is not None:
                headers["retry-after-ms"] = f"{self.retry_after_ms:g}"
            return self._error(flavour, 429, "Rate limit reached; slow down", "rate_limit_error", headers)
        status = int(fault)
        kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                 529: "overloaded_error"}
        messages = {400: "Invalid request: max_tokens is too large", 401: "Invalid authentication",
                    404: "The model does not exist", 529: "Overloaded"}
        return self._error(flavour, status, messages.get(status, "The server had an error"),
                           kinds.get(status, "api_error"))

    @staticmethod
    def _error(flavour: str, status: int, message: str, kind: str,
               headers: dict[str, str] | None = None) -> web.Response:
        if flavour == "anthropic":
            body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            body = {"error": {"message": message, "type": kind, "code": None, "param": None}}
        return web.json_response(body, status=status, headers=headers)

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "openai")

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "anthropic")

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": self.model_name, "object": "model", "created": 0, "owned_by": "fault-server"}]})


def _content(message: dict[str, Any]) -> str:
    content = message.get("content", "")
    if isinstance(content, list):  # Anthropic / OpenAI content blocks
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content)


def _words(body: dict[str, Any]) -> int:
    n = sum(len(_content(m).split()) for m in body.get("messages", []) if isinstance(m, dict))
    system = body.get("system")
    return n + (len(system.split()) if isinstance(system, str) else 0)


def _answer(flavour: str, body: dict[str, Any], text: str, model_name: str) -> dict[str, Any]:
    prompt, completion = _words(body), len(text.split())
    model = body.get("model", model_name)
    if flavour == "anthropic":
        forced = (body.get("tool_choice") or {}).get("name") if isinstance(body.get("tool_choice"), dict) else None
        tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("name") == forced]
        block: dict[str, Any] = {"type": "text", "text": text}
        if tools:  # a forced tool: the answer is its input, in the shape the tool's schema asks for
            block = {"type": "tool_use", "id": "toolu_fault", "name": forced,
                     "input": _in_shape(text, tools[0].get("input_schema"))}
        return {"id": "msg_fault", "type": "message", "role": "assistant", "model": model,
                "content": [block], "stop_reason": "tool_use" if tools else "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": prompt, "output_tokens": completion}}
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":  # structured outputs
        text = json.dumps(_in_shape(text, (fmt.get("json_schema") or {}).get("schema")))
    choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    if body.get("logprobs"):
        choice["logprobs"] = _logprobs(text, int(body.get("top_logprobs") or 0))
    return {"id": "chatcmpl-fault", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [choice],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}


def _in_shape(text: str, schema: Any) -> Any:
    """The reply as the JSON object a constrained answer is: the text itself when it is one, else
    wrapped under the schema's only property (the {"answer": ...} form closed choices take)."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        return value
    props = list((schema or {}).get("properties") or {}) if isinstance(schema, dict) else []
    return {props[0] if len(props) == 1 else "answer": text}


def _logprobs(text: str, k: int) -> dict[str, Any]:
    """Plausible chat logprobs: one token per word (with its leading space), the sent word the most
    likely of its k alternatives, the others "alt1".."alt<k-1>" less likely."""
    content = []
    for word in re.findall(r"\s*\S+", text):
        top = [{"token": word, "logprob": -0.25, "bytes": None}]
        top += [{"token": f"alt{j}", "logprob": -1.5 * j, "bytes": None} for j in range(1, k)]
        content.append({"token": word, "logprob": -0.25, "bytes": None, "top_logprobs": top})
    return {"content": content, "refusal": None}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Serve OpenAI/Anthropic wire formats with injected faults.")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--text", default="ok")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    ap.add_argument("--failure-rate", type=float, default=0.0)
    ap.add_argument("--failure-kinds", default="500,503,429,drop")
    ap.add_argument("--max-in-flight", type=int, default=None)
    ap.add_argument("--retry-after", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    server = FaultServer(text=args.text, latency_s=args.latency, failure_rate=args.failure_rate,
                         failure_kinds=args.failure_kinds.split(","), max_in_flight=args.max_in_flight,
                         retry_after=args.retry_after, seed=args.seed, port=args.port)

    async def serve() -> None:
        async with server:
            print(f"fault server on {server.openai_url} (OpenAI) and {server.url} (Anthropic)", flush=True)
            await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
