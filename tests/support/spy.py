"""A backend wrapper that records every request reaching the real backend (its constraint, say), so a
test checks what a family really asked, not a re-implementation of it."""
from __future__ import annotations

from typing import Any


class RequestSpy:
    def __init__(self, inner: Any, seen: list[Any]):
        self.inner, self.key, self.instant, self.seen = inner, inner.key, True, seen

    async def complete(self, request):
        self.seen.append(request)
        return await self.inner.complete(request)

    def classify(self, exc):
        return self.inner.classify(exc)

    async def aclose(self):
        return None


def spy_on(ctx: Any, *variants: str) -> list[Any]:
    """Wrap these variants' backends in ctx's gateway; returns the list their requests land in."""
    seen: list[Any] = []
    for name in variants:
        lane = ctx.gateway._lane(name)  # what the gateway calls for this variant
        lane.backend = RequestSpy(lane.backend, seen)
    return seen
