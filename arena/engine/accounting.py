"""What the model calls used: live counters per model for the dashboard, tokens, calls and cost
per (variant, role), and the stored record of each call, all filled from a call's Completion."""
from __future__ import annotations

from dataclasses import dataclass, field

from arena.engine.limits import AdaptiveLimit
from arena.records import CallRecord, Completion


@dataclass
class ModelStats:
    """Live per-model counters for the dashboard (one per backend key)."""

    limiter: AdaptiveLimit = field(repr=False)  # the model's concurrency limit, read live
    queued: int = 0  # of the calls in flight, the ones waiting for the backend (one llama.cpp thread for all)
    waiting: int = 0  # calls waiting for a slot
    calls: int = 0  # completed calls, cached ones included
    cached: int = 0
    retries: int = 0
    rate_limits: int = 0
    errors: int = 0  # calls that failed for good
    input_tokens: int = 0  # tokens actually sent and generated (cache hits excluded)
    output_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True  # False: a hosted model with no known price, cost shows 0
    streamed: int = 0  # answered calls that came as a stream (first-token time known)
    first_token_s_total: float = 0.0
    rated: int = 0  # of those, the ones with a generation rate (two tokens or more)
    tokens_per_s_total: float = 0.0

    @property
    def limit(self) -> int:
        """The current adaptive concurrency limit."""
        return self.limiter.limit

    @property
    def max_limit(self) -> int:
        return self.limiter.maximum

    @property
    def in_flight(self) -> int:
        """Calls holding a slot: running, or queued for the backend's turn."""
        return self.limiter.in_flight

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def first_token_s(self) -> float | None:
        """Mean time to the first token of the streamed calls, or None."""
        return self.first_token_s_total / self.streamed if self.streamed else None

    @property
    def tokens_per_s(self) -> float | None:
        """Mean generation rate of the streamed calls, or None."""
        return self.tokens_per_s_total / self.rated if self.rated else None


@dataclass
class Usage:
    """Accounting per (variant, role)."""

    calls: int = 0
    cached: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


def count(completion: Completion, rec: CallRecord, stats: ModelStats, usage: Usage) -> None:
    """An answered call: its record filled in, its model's and its (variant, role)'s counts added."""
    rec.response = completion.text
    rec.input_tokens, rec.output_tokens = completion.input_tokens, completion.output_tokens
    rec.latency_s, rec.cached, rec.cost_usd = completion.latency_s, completion.cached, completion.cost_usd
    rec.constrained, rec.finish_reason = completion.constrained, completion.finish_reason
    rec.first_token_s, rec.tokens_per_s = completion.first_token_s, completion.tokens_per_s
    stats.calls += 1
    usage.calls += 1
    if completion.cached:
        stats.cached += 1
        usage.cached += 1
        return
    stats.input_tokens += completion.input_tokens
    stats.output_tokens += completion.output_tokens
    stats.cost_usd += completion.cost_usd
    if completion.first_token_s is not None:
        stats.streamed += 1
        stats.first_token_s_total += completion.first_token_s
    if completion.tokens_per_s is not None:
        stats.rated += 1
        stats.tokens_per_s_total += completion.tokens_per_s
    usage.input_tokens += completion.input_tokens
    usage.output_tokens += completion.output_tokens
    usage.cost_usd += completion.cost_usd
