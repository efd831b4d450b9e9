"""OpenAI and any OpenAI-compatible server.

    openai/<model>                     api.openai.com, key from OPENAI_API_KEY, through the
                                       official async `openai` client (this module)
    openai-api/<service>/<model>       any chat-completions server: vLLM, llama.cpp
                                       server, Ollama, Together, Groq, a GPU fleet...,
                                       through a bare aiohttp client (players/openai_wire.py)

Options (unknown variant keys in the config): `base_url`, or `base_urls = [...]` for a
fleet of servers of the same model (each request goes to the least-loaded server,
round-robin among equals; a server that fails to connect rests for a few seconds),
`api_key_env`, `api_key` (discouraged), `timeout` (seconds per attempt),
`max_tokens_param` ("max_tokens" or "max_completion_tokens"), and for openai-api `stream`
(default true: answers come as server-sent events, so first-token time and tokens/s are
recorded; a server that does not stream is read as a plain answer).

An openai-api service reads its key from <SERVICE>_API_KEY and its URL from
<SERVICE>_BASE_URL when the config gives none; servers on this machine or a private
network need no key.
"""
from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from arena.config import ConfigError, variant_options
from arena.records import Completion, Variant
from arena.schema import setting
from players import fleet
from players.base import Request, sampling_kwargs
from players.keys import (
    PLACEHOLDER_KEY,
    env_var_for,
    is_local_url,
    redact_url,
    refuse_url_credentials,
    resolve_key,
    scrub,
)
from players.sdk_common import (
    ANSWER,
    HostedOptions,
    answer_schema,
    chat_completion_fields,
    classify_sdk,
    connect_failure,
    http_client,
    to_backend_error,
    unwrap_answer,
)

# The gateway bounds each attempt (call_timeout_s or the variant's `timeout`); the HTTP
# timeout is only a backstop unless the variant sets `timeout`.
DEFAULT_TIMEOUT_S = 3600.0
DEFAULT_POOL = 16
REST_AFTER_CONNECT_FAILURE_S = 5.0


class OpenAIOptions(HostedOptions):
    """The variant options of openai/... and openai-api/... (see the module docstring)."""
    base_url: str | None = setting(None, must="an http(s):// URL")
    base_urls: list[str] | None = setting(None, must="a list of http(s):// URLs")
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] | None = setting(
        None, must="\"max_tokens\" or \"max_completion_tokens\"")
    stream: bool | None = setting(None, must="true or false")


@dataclass
class Target:
    provider: str  # "openai" or "openai-api"
    service: str  # "openai" or the service name
    model: str  # as the server knows it
    base_urls: list[str] = field(default_factory=list)  # empty: the SDK's default (api.openai.com)
    key_env: str = "OPENAI_API_KEY"


def _target(variant: Variant) -> Target:
    where = f"variant {variant.name!r}"
    provider, _, rest = variant.model.partition("/")
    opts = variant.options
    if provider == "openai":
        if not rest:
            raise ConfigError(f"{where}: model must look like openai/<model>, e.g. openai/gpt-4o-mini")
        target = Target("openai", "openai", rest)
    elif provider == "openai-api":
        service, _, model = rest.partition("/")
        if not service or not model:
            raise ConfigError(f"{where}: model must look like openai-api/<service>/<model>, "
                              "e.g. openai-api/vllm/Qwen/Qwen2.5-7B-Instruct")
        target = Target("openai-api", service, model, key_env=env_var_for(service))
    else:
        raise ConfigError(f"{where}: {variant.model!r} is not an openai model")
    urls: Any = opts.get("base_urls")
    if urls is None and opts.get("base_url") is not None:
        urls = [opts["base_url"]]
    if urls is None and provider == "openai-api":
        env_url = env_var_for(target.service).removesuffix("_API_KEY") + "_BASE_URL"
        if os.environ.get(env_url):
            refuse_url_credentials(variant, {env_url: os.environ[env_url]})
            urls = [os.environ[env_url]]
        else:
            raise ConfigError(f"{where}: openai-api needs base_url = \"http://host:port/v1\" (or base_urls = "
                              f"[...] for a fleet, or the environment variable {env_url})")
    if urls is not None:
        if (not isinstance(urls, list) or not urls
                or not all(isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls)):
            raise ConfigError(f"{where}: base_url(s) must be http(s):// URLs, got {urls!r}")
        if len(set(urls)) != len(urls):
            raise ConfigError(f"{where}: base_urls lists a server twice")
        target.base_urls = [u.rstrip("/") for u in urls]
    if provider == "openai" and opts.get("stream") is not None:
        raise ConfigError(f"{where}: stream is an openai-api option (openai/ answers are not streamed)")
    mtp = opts.get("max_tokens_param")
    if mtp is not None and mtp not in ("max_tokens", "max_completion_tokens"):
        raise ConfigError(f"{where}: max_tokens_param must be \"max_tokens\" or \"max_completion_tokens\"")
    return target


# Keywords OpenAI's strict structured outputs refuse (a 400): string lengths. The grammar backends
# use them to keep an answer inside its token budget; here max_tokens does that alone.
_NOT_STRICT = ("minLength", "maxLength")


def _strict(schema: Any, names: bool = False) -> Any:
    """The schema without _NOT_STRICT keywords (`names`: a "properties" table, whose keys are names)."""
    if isinstance(schema, dict):
        return {k: _strict(v, k == "properties" and not names) for k, v in schema.items()
                if names or k not in _NOT_STRICT}
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _key_required(target: Target) -> bool:
    return target.provider == "openai" or not all(is_local_url(u) for u in target.base_urls)


OPTIONS = OpenAIOptions  # what players.registry.check_options checks of a declared variant


def check(variant: Variant) -> None:
    """Everything that can be wrong before a match starts: model name, URLs, timeout, key."""
    refuse_url_credentials(variant)  # first: no later message may echo them
    variant_options(variant, OpenAIOptions)  # unknown keys, types, ranges, the price file
    target = _target(variant)
    resolve_key(variant, target.key_env, required=_key_required(target))


def create(variant: Variant) -> "OpenAIBackend":
    check(variant)
    return OpenAIBackend(variant, _target(variant))


def create_compatible(variant: Variant) -> Any:
    """The "openai-api" entry in the registry: the same options, the aiohttp wire client."""
    from players.openai_wire import WireBackend
    check(variant)
    return WireBackend(variant, _target(variant))


def chat_body(model: str, request: Request, max_tokens_param: str, adapter: str | None) -> dict[str, Any]:
    """The chat-completions request body of `request` (both clients send this)."""
    p = request.params
    body: dict[str, Any] = {"model": adapter or model,  # vLLM serves LoRA adapters under their own name
                            "messages": request.messages, max_tokens_param: p.max_tokens, **sampling_kwargs(p)}
    if request.logprobs:
        body.update(logprobs=True, top_logprobs=request.logprobs)
    if request.constraint is not None:  # structured outputs (vLLM and llama.cpp's server accept it too)
        schema, _ = answer_schema(request.constraint)
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": ANSWER, "schema": _strict(schema), "strict": True}}
    return body


def reply_text(request: Request, text: str) -> str:
    return text if request.constraint is None else unwrap_answer(request.constraint, text)


@dataclass
class Endpoint:
    url: str | None
    client: Any = None
    in_flight: int = 0
    calls: int = 0
    resting_until: float = 0.0


class Fleet:
    """The servers of one variant and how a request picks one (both clients)."""

    def __init__(self, variant: Variant, target: Target):
        self.variant = variant
        self.target = target
        where = ",".join(redact_url(u) for u in target.base_urls) or "api.openai.com"
        self.key = f"{target.provider}|{where}|{target.model}"
        self.endpoints = [Endpoint(u) for u in (target.base_urls or [None])]
        self.pool_size = DEFAULT_POOL  # the gateway sets this to its concurrency limit
        self.timeout_s = variant_options(variant, OpenAIOptions).timeout or DEFAULT_TIMEOUT_S
        self._api_key = resolve_key(variant, target.key_env, required=_key_required(target)) or PLACEHOLDER_KEY
        default_param = "max_completion_tokens" if target.provider == "openai" else "max_tokens"
        self._max_tokens_param = variant.options.get("max_tokens_param", default_param)
        self._turn = itertools.count()

    def __repr__(self) -> str:  # never shows the key
        return f"{type(self).__name__}({self.key!r})"

    def _pick(self) -> Endpoint:
        return fleet.pick(self.endpoints, self._turn)

    def _rest(self, ep: Endpoint) -> None:
        """A server that refused or could not be reached: others take its requests for a while."""
        fleet.rest(ep, REST_AFTER_CONNECT_FAILURE_S)

    def _label(self, ep: Endpoint) -> str:
        where = redact_url(ep.url) if ep.url else "api.openai.com"
        return scrub(f"{self.target.provider} {where} {self.target.model}")


class OpenAIBackend(Fleet):
    cacheable = True

    def __init__(self, variant: Variant, target: Target):
        import openai
        self._sdk = openai
        super().__init__(variant, target)

    def _client(self, ep: Endpoint) -> Any:
        if ep.client is None:
            kwargs: dict[str, Any] = {"api_key": self._api_key, "max_retries": 0, "timeout": self.timeout_s,
                                      "http_client": http_client(self._sdk, self.pool_size, self.timeout_s)}
            if ep.url is not None:
                kwargs["base_url"] = ep.url
            ep.client = self._sdk.AsyncOpenAI(**kwargs)
        return ep.client

    async def complete(self, request: Request) -> Completion:
        ep = self._pick()
        kwargs = chat_body(self.target.model, request, self._max_tokens_param, self.variant.adapter)
        ep.in_flight += 1
        ep.calls += 1
        started = time.perf_counter()
        try:
            # The client's own POST (auth, headers, status errors) without the typed request
            # transform and response models: those cost about half the SDK's CPU per call, which
            # is what bounds a thousand calls in flight (docs/benchmarks.md).
            raw = await self._client(ep).post("/chat/completions", body=kwargs, cast_to=bytes)
        except Exception as exc:
            err = to_backend_error(self._sdk, self._label(ep), exc)
            if connect_failure(exc) is not None:
                self._rest(ep)
            raise err from None
        finally:
            ep.in_flight -= 1
        latency = time.perf_counter() - started
        reply = chat_completion_fields(raw, self._label(ep))
        return Completion(text=reply_text(request, reply.text), input_tokens=reply.input_tokens, output_tokens=reply.output_tokens,
                          latency_s=latency, finish_reason=reply.finish_reason,
                          constrained=request.constraint is not None, top_logprobs=reply.top_logprobs if request.logprobs else None)

    def classify(self, exc: BaseException) -> tuple[str, float | None]:
        return classify_sdk(self._sdk, exc)

    async def aclose(self) -> None:
        for ep in self.endpoints:
            client, ep.client = ep.client, None
            if client is not None:
                await client.close()
