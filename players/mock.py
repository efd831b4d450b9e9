"""Scripted players for fast engine tests and as baselines. Never a stand-in for the
real backends in their own tests.

- mock/random   picks uniformly from the request's choices (a random legal mover)
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
from typing import Any

from arena.records import Completion, Variant
from players.base import BackendError, Request, classify_default

KINDS = ("random", "first", "script", "constant", "fail")


def check(variant: Variant) -> None:
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
    def __init__(self, variant: Variant):
        self.kind = variant.model.split("/", 1)[1]
        self.key = f"mock|-|{self.kind}"
        self.options: dict[str, Any] = dict(variant.options)
        self._script_pos = 0
        self._fallback_rng = random.Random(variant.name)

    async def complete(self, request: Request) -> Completion:
        delay = float(self.options.get("latency_s", 0) or 0)
        if delay:
            await asyncio.sleep(delay)
        text = self._answer(request)
        words_in = sum(len(m.get("content", "").split()) for m in request.messages)
        return Completion(text=text, input_tokens=words_in, output_tokens=len(text.split()), latency_s=delay)

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
        choices = request.choices or ()
        if not choices:
            return str(self.options.get("text", "ok"))
        if self.kind == "first":
            return choices[0]
        seed = request.params.seed
        rng = random.Random(seed) if seed is not None else self._fallback_rng
        return rng.choice(list(choices))

    def classify(self, exc: BaseException):
        return classify_default(exc)

    async def aclose(self) -> None:
        return None
