"""Helpers for tests that drive the real SDK clients against the local fault server."""
from __future__ import annotations

import asyncio
from typing import Any

from arena.engine.gateway import Gateway, RetryPolicy
from arena.records import SamplingParams, Variant


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def fast_retry(**kw: Any) -> RetryPolicy:
    """Short backoffs so retry tests stay fast; the policy itself is the real one."""
    kw.setdefault("base_delay_s", 0.01)
    kw.setdefault("max_delay_s", 0.05)
    return RetryPolicy(**kw)


def compat(name: str, url: str, model: str = "openai-api/fault/m1", **options: Any) -> Variant:
    """An OpenAI-compatible variant served by the fault server (a local URL: no key needed)."""
    return Variant(name, model, SamplingParams(max_tokens=16), options={"base_url": url, **options})


def claude(name: str, url: str, **options: Any) -> Variant:
    options.setdefault("api_key", "sk-ant-test-not-a-real-key-000")
    return Variant(name, "anthropic/claude-haiku-4-5", SamplingParams(max_tokens=16),
                   options={"base_url": url, **options})


async def ask(gw: Gateway, name: str, text: str = "hello there", *, seed: int | None = 1, role: str = "player",
              **kw: Any):
    return await gw.ask(name, role, [{"role": "user", "content": text}], match_id="m-1", seed=seed, **kw)
