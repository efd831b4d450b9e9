"""Scripted players for fast engine tests and as baselines. Never a stand-in for the
real backends in their own tests.

- mock/random   picks uniformly from the request's choices, else its constraint's choices
                (a random legal mover)
- mock/first    always picks the first choice
- mock/script   answers from options["script"] in order, cycling
- mock/constant answers options["text"] (default "ok")
- mock/fail     every attempt fails (options["kind"]: fatal | transient | rate-limit)

options["latency_s"] adds a delay per call. Randomness is seeded from the request's
sampling seed, so scripted games replay exactly.
"""
from __future__ import annotations

import asyncio
import random
from typing import Any, Literal

from arena.config import VariantOptions, variant_options
from arena.records import Completion, Variant
from arena.schema import setting
from players.base import (
    FATAL,
    RATE_LIMIT,
    TRANSIENT,
    BackendError,
    Request,
    classify_default,
)

KINDS = ("random", "first", "script", "constant", "fail")


class MockOptions(VariantOptions):
    """The options of the scripted players (see the module docstring)."""
    script: list[str | int | float] | None = setting(None, must="a list of answers")
    text: str | int | float = setting("ok", must="a string")
    kind: Literal["fatal", "transient", "rate-limit"] = setting(
        FATAL, must=f"one of {FATAL!r}, {TRANSIENT!r}, {RATE_LIMIT!r}")
    latency_s: float = setting(0.0, ge=0, must="a non-negative number of seconds")


OPTIONS = MockOptions  # what players.registry.check_options checks of a declared variant


def check(variant: Variant) -> None:
    variant_options(variant, MockOptions)
    kind = variant.model.split("/", 1)[1] if "/" in variant.model else ""
    if kind not in KINDS:
        raise ValueError(f"variant {variant.name!r}: unknown mock player {variant.model!r} (known: "
                         + ", ".join("mock/" + k for k in KINDS) + ")")
    if kind == "script" and not variant.options.get("script"):
        raise ValueError(f"variant {variant.name!r}: mock/script needs a non-empty 'script' list")


def create(variant: Variant) -> "MockBackend":
    check(variant)
    return MockBackend(variant)


class MockBackend:
    # Free and instant: caching a scripted answer would only cost disk writes.
    cacheable = False
    # Its token counts are four characters a token of what it is scripted to say, past max_tokens
    # if the script says so: not a provider's claim for the gateway to check.
    claims_usage = False

    def __init__(self, variant: Variant):
        self.kind = variant.model.split("/", 1)[1]
        self.key = f"mock|-|{self.kind}"
        self.options: dict[str, Any] = dict(variant.options)
        self._script_pos = 0
        self._fallback_rng = random.Random(variant.name)
        self.delay = float(self.options.get("latency_s", 0) or 0)
        # Without a delay `complete` never awaits, so no timeout could interrupt it: the gateway
        # skips setting one (a measurable share of a bare-loop call).
        self.instant = not self.delay

    async def complete(self, request: Request) -> Completion:
        if self.delay:
            await asyncio.sleep(self.delay)
        text = self._answer(request)
        # token counts: the usual four characters per token, cheap enough for a bare-loop benchmark
        chars_in = sum([len(m.get("content", "")) for m in request.messages])
        return Completion(text, -(-chars_in // 4), -(-len(text) // 4), self.delay)  # text, tokens in/out, latency

    def _answer(self, request: Request) -> str:
        if self.kind == "fail":
            raise BackendError("mock/fail: this player always fails", self.options.get("kind", "fatal"))
        if self.kind == "constant":
            return str(self.options.get("text", "ok"))
        if self.kind == "script":
            script = self.options["script"]
            text = str(script[self._script_pos % len(script)])
            self._script_pos += 1
            return text
        choices = request.choices or (request.constraint.choices if request.constraint else ()) or ()
        if not choices:
            return str(self.options.get("text", "ok"))
        if self.kind == "first":
            return choices[0]
        seed = request.params.seed
        if seed is None:
            return self._fallback_rng.choice(choices)
        return choices[_mix(seed) % len(choices)]

    def classify(self, exc: BaseException):
        return classify_default(exc)

    async def aclose(self) -> None:
        return None


def _mix(seed: int) -> int:
    """A well-spread 64-bit hash of the call's seed (splitmix64's finaliser): the same seed
    always picks the same choice, neighbouring seeds pick independently, and it costs far
    less than seeding a Random per call."""
    z = (seed + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)
