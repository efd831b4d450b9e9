"""Anthropic models through the official async `anthropic` client.

    anthropic/<model>     key from ANTHROPIC_API_KEY (or api_key_env)

Options: `base_url` (a proxy or gateway), `api_key_env`, `api_key` (discouraged),
`timeout` (seconds per attempt). System messages go into the request's `system`
field; consecutive turns of the same role are merged, because the messages API wants
user and assistant turns to alternate, starting with the user. The installed SDK has
no temperature / top_p arguments, so set ones travel in the request body as-is.
"""
from __future__ import annotations

import time
from typing import Any

from arena.config import ConfigError, variant_options
from arena.records import Completion, Messages, Variant
from arena.schema import setting
from players.base import TRANSIENT, BackendError, Request
from players.keys import redact_url, refuse_url_credentials, resolve_key, scrub
from players.sdk_common import (
    ANSWER,
    HostedOptions,
    answer_schema,
    classify_sdk,
    http_client,
    to_backend_error,
    unwrap_answer,
)

KEY_ENV = "ANTHROPIC_API_KEY"
# The gateway bounds each attempt (call_timeout_s or the variant's `timeout`); the HTTP
# timeout is only a backstop unless the variant sets `timeout`.
DEFAULT_TIMEOUT_S = 3600.0
DEFAULT_POOL = 16


class AnthropicOptions(HostedOptions):
    """The variant options of anthropic/... (see the module docstring)."""
    base_url: str | None = setting(None, must="an http(s):// URL")


def _model(variant: Variant) -> str:
    provider, _, model = variant.model.partition("/")
    if provider != "anthropic" or not model:
        raise ConfigError(f"variant {variant.name!r}: model must look like anthropic/<model>, "
                          "e.g. anthropic/claude-3-5-haiku-latest")
    url = variant.options.get("base_url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise ConfigError(f"variant {variant.name!r}: base_url must be an http(s):// URL, got {url!r}")
    return model


OPTIONS = AnthropicOptions  # what players.registry.check_options checks of a declared variant


def check(variant: Variant) -> None:
    refuse_url_credentials(variant)  # first: no later message may echo them
    variant_options(variant, AnthropicOptions)  # unknown keys, types, ranges, the price file
    _model(variant)
    resolve_key(variant, KEY_ENV)


def create(variant: Variant) -> "AnthropicBackend":
    check(variant)
    return AnthropicBackend(variant)


def split_system(messages: Messages) -> tuple[str | None, list[dict[str, str]]]:
    """(system text, alternating user/assistant turns starting with user)."""
    system = [m.get("content", "") for m in messages if m.get("role") == "system"]
    turns: list[dict[str, str]] = []
    for m in messages:
        role = m.get("role")
        if role == "system":
            continue
        role = "assistant" if role == "assistant" else "user"
        content = m.get("content", "") or ""
        if turns and turns[-1]["role"] == role:
            turns[-1] = {"role": role, "content": turns[-1]["content"] + "\n\n" + content}
        else:
            turns.append({"role": role, "content": content})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": "(begin)"})
    return ("\n\n".join(system) if system else None), turns


class AnthropicBackend:
    cacheable = True

    def __init__(self, variant: Variant):
        import anthropic
        self._sdk = anthropic
        self.variant = variant
        self.model = _model(variant)
        self.base_url: str | None = variant.options.get("base_url")
        self.where = redact_url(self.base_url) if self.base_url else "api.anthropic.com"
        self.key = f"anthropic|{self.where}|{self.model}"
        self.pool_size = DEFAULT_POOL
        self.timeout_s = variant_options(variant, AnthropicOptions).timeout or DEFAULT_TIMEOUT_S
        self._api_key = resolve_key(variant, KEY_ENV)
        self._client: Any = None

    def __repr__(self) -> str:  # never shows the key
        return f"AnthropicBackend({self.key!r})"

    def client(self) -> Any:
        if self._client is None:
            kwargs: dict[str, Any] = {"api_key": self._api_key, "max_retries": 0, "timeout": self.timeout_s,
                                      "http_client": http_client(self._sdk, self.pool_size, self.timeout_s),
                                      "open_telemetry": False}  # no prompt text in tracing spans
            if self.base_url:
                kwargs["base_url"] = self.base_url
            self._client = self._sdk.AsyncAnthropic(**kwargs)
        return self._client

    async def complete(self, request: Request) -> Completion:
        p = request.params
        system, turns = split_system(request.messages)
        kwargs: dict[str, Any] = {"model": self.model, "messages": turns, "max_tokens": p.max_tokens}
        if system:
            kwargs["system"] = system
        if p.stop:
            kwargs["stop_sequences"] = list(p.stop)
        extra = {k: v for k, v in (("temperature", p.temperature), ("top_p", p.top_p)) if v is not None}
        if extra:
            kwargs["extra_body"] = extra
        if request.constraint is not None:  # a forced tool: its input_schema is the answer's format
            schema, _ = answer_schema(request.constraint)
            kwargs["tools"] = [{"name": ANSWER, "description": "Give your answer in exactly this form.",
                                "input_schema": schema}]
            kwargs["tool_choice"] = {"type": "tool", "name": ANSWER}
        started = time.perf_counter()
        try:
            resp = await self.client().messages.create(**kwargs)
        except Exception as exc:
            raise to_backend_error(self._sdk, self._label(), exc) from None
        latency = time.perf_counter() - started
        # The SDK builds its models without validating them: an off-schema body arrives as
        # whatever JSON it was, so check the shape before reading it.
        blocks = getattr(resp, "content", None)
        if not isinstance(blocks, list):
            raise BackendError(f"{self._label()}: response had no content blocks", TRANSIENT)
        texts = [getattr(b, "text", None) for b in blocks if getattr(b, "type", "text") == "text"]
        if not all(isinstance(t, str) for t in texts):
            raise BackendError(f"{self._label()}: response text block is not text", TRANSIENT)
        text = "".join(texts)
        tool = [b for b in blocks if getattr(b, "type", None) == "tool_use" and getattr(b, "name", None) == ANSWER]
        if request.constraint is not None and tool:
            text = unwrap_answer(request.constraint, getattr(tool[0], "input", None))
        usage = getattr(resp, "usage", None)
        return Completion(text=text,
                          # as sent: the gateway refuses figures that cannot be true
                          input_tokens=getattr(usage, "input_tokens", None) or 0,
                          output_tokens=getattr(usage, "output_tokens", None) or 0,
                          latency_s=latency, finish_reason=getattr(resp, "stop_reason", None),
                          constrained=request.constraint is not None)

    def _label(self) -> str:
        return scrub(f"anthropic {self.where} {self.model}")

    def classify(self, exc: BaseException) -> tuple[str, float | None]:
        return classify_sdk(self._sdk, exc)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
