"""The one path every model call takes: system prompt, response cache, an adaptive
concurrency limit per (provider, endpoint, model), one retry loop for all providers,
and accounting of tokens and cost per model, per variant and per role.

Backends make single attempts and classify their errors; the policy is here:
- fatal errors (bad key, bad request, unknown model) fail at once with the provider's message;
- rate limits shrink the model's concurrency limit and wait as long as the server asks
  (Retry-After), else back off exponentially with jitter;
- transient errors (timeouts, 5xx, dropped connections, malformed bodies) back off and retry,
  up to `max_attempts`;
- every attempt has its own timeout and the whole call an overall one, both started once the call
  has a slot and the backend's turn (a local model generates one call at a time);
- under a cost limit a paid call first reserves what it could cost (arena/engine/budget.py).
Error text is scrubbed of API keys before it leaves this module.
"""
from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from arena.engine.answers import InvalidResponse, cap_answer, usage_problem
from arena.engine.budget import Reservations, estimate
from arena.engine.cache import ResponseCache, cache_key
from arena.engine.deadlines import Deadlines
from arena.engine.limits import AdaptiveLimit
from arena.engine.pricing import Price, price_for
from arena.records import CallRecord, Completion, Constraint, Messages, Variant
from players.base import FATAL, RATE_LIMIT, Backend, Request
from players.keys import redact_known, scrub
from players.registry import create_backend

class CallFailed(Exception):
    """A call that could not be completed after the retry policy ran out."""


class CostLimitReached(CallFailed):
    """The run's cost limit is spent; no further calls are made."""


@dataclass
class ModelStats:
    """Live per-model counters for the dashboard (one per backend key)."""

    limit: int  # the current adaptive concurrency limit
    in_flight: int = 0  # calls holding a slot: running, or queued for the backend's turn
    queued: int = 0  # of those, the ones waiting for the backend (one llama.cpp thread for all)
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
    max_limit: int = 0
    streamed: int = 0  # answered calls that came as a stream (first-token time known)
    first_token_s_total: float = 0.0
    rated: int = 0  # of those, the ones with a generation rate (two tokens or more)
    tokens_per_s_total: float = 0.0

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


@dataclass
class RetryPolicy:
    max_attempts: int = 6  # attempts that may fail transiently
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    call_timeout_s: float = 300.0  # per attempt
    total_timeout_s: float = 900.0  # per call, from its first attempt, waits included
    max_rate_limit_waits: int = 30  # rate-limit answers tolerated per call

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            # Never earlier than the server asked; a little jitter so waiters do not return together.
            return max(retry_after, 0.0) * (1 + random.uniform(0, 0.1))
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** attempt))  # full jitter


def storable(text: str) -> str:
    """`text` with lone surrogates (a server's JSON may carry "\\udcff") replaced by U+FFFD:
    they cannot be encoded as UTF-8, so the store, the cache and every export would fail on them."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)


_SURROGATES = re.compile("[\ud800-\udfff]")


def _timeout_option(variant: Variant, key: str, default: float) -> float:
    value = variant.options.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


@dataclass
class Gateway:
    variants: dict[str, Variant]
    calls_per_model: int = 4
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stats: dict[str, ModelStats] = field(default_factory=dict)
    cache: ResponseCache | None = None
    cost_limit_usd: float | None = None
    usage: dict[tuple[str, str], Usage] = field(default_factory=dict)
    total_cost_usd: float = 0.0  # what the tournament spent before, when it resumes (the runner sets it)
    on_spend: Callable[[float], None] | None = None  # told the cost of every paid call, e.g. to store it

    def __post_init__(self) -> None:
        self._backends: dict[str, Backend] = {}
        self._limits: dict[str, AdaptiveLimit] = {}
        self._prices: dict[str, Price | None] = {}
        self._timeouts: dict[str, tuple[float, float]] = {}  # variant -> (per attempt, overall)
        self._deadlines: dict[float, Deadlines] = {}  # per attempt timeout -> the attempts' bounds
        self._reservations = Reservations()  # the cost limit's, for paid calls in flight

    @classmethod
    def from_config(cls, cfg: Any, run_dir: str | Path | None = None) -> "Gateway":
        """The gateway a tournament config asks for; the cache lives in run_dir's store."""
        use_cache = getattr(cfg, "cache", True) and run_dir is not None
        return cls(cfg.variants, calls_per_model=cfg.calls_per_model,
                   retry=RetryPolicy(max_attempts=cfg.max_attempts, call_timeout_s=cfg.call_timeout_s,
                                     total_timeout_s=max(RetryPolicy.total_timeout_s, 2 * cfg.call_timeout_s)),
                   cache=ResponseCache.for_run(run_dir) if use_cache else None,
                   cost_limit_usd=getattr(cfg, "cost_limit_usd", None))

    # -- set-up -----------------------------------------------------------------------------
    def backend(self, variant_name: str) -> Backend:
        be = self._backends.get(variant_name)
        if be is None:
            variant = self.variants[variant_name]
            be = self._backends[variant_name] = create_backend(variant)
            limiter = self._limiter(be, variant)
            if hasattr(be, "pool_size"):
                be.pool_size = limiter.maximum  # HTTP connections match the concurrency ceiling
        return be

    def _limiter(self, backend: Backend, variant: Variant) -> AdaptiveLimit:
        limiter = self._limits.get(backend.key)
        if limiter is None:
            per_server = variant.options.get("max_connections", self.calls_per_model)
            if not isinstance(per_server, int) or isinstance(per_server, bool) or per_server < 1:
                per_server = self.calls_per_model
            servers = len(getattr(backend, "endpoints", None) or [None])
            limiter = self._limits[backend.key] = AdaptiveLimit(per_server * servers)
            self.stats[backend.key] = ModelStats(limit=limiter.limit, max_limit=limiter.maximum,
                                                 priced=self.price(variant.name) is not None)
        return limiter

    def price(self, variant_name: str) -> Price | None:
        if variant_name not in self._prices:
            self._prices[variant_name] = price_for(self.variants[variant_name])
        return self._prices[variant_name]

    def full_messages(self, variant: Variant, messages: Messages) -> Messages:
        if variant.system and not (messages and messages[0].get("role") == "system"):
            return [{"role": "system", "content": variant.system}, *messages]
        return list(messages)

    # -- calls ------------------------------------------------------------------------------
    async def ask(
        self,
        variant_name: str,
        role: str,
        messages: Messages,
        *,
        match_id: str,
        seed: int | None = None,
        choices: tuple[str, ...] | None = None,
        max_tokens: int | None = None,
        constraint: Constraint | None = None,
        logprobs: int = 0,
        record: list[CallRecord] | None = None,
    ) -> Completion:
        variant = self.variants[variant_name]
        params = variant.params
        changes: dict[str, Any] = {}  # one replace, not two: dataclasses.replace is slow per call
        if params.seed is None and seed is not None:
            changes["seed"] = seed
        if max_tokens is not None and max_tokens < params.max_tokens:
            changes["max_tokens"] = max_tokens
        if changes:
            params = params.replace(**changes)
        request = Request(self.full_messages(variant, messages), params, choices, constraint, logprobs)
        backend = self.backend(variant_name)
        limiter = self._limits[backend.key]
        stats = self.stats[backend.key]
        usage = self.usage.get((variant_name, role))
        if usage is None:
            usage = self.usage[(variant_name, role)] = Usage()
        if self.cost_limit_usd is not None and self.total_cost_usd >= self.cost_limit_usd:
            raise self._limit_reached()
        rec = CallRecord(match_id=match_id, variant=variant_name, role=role, messages=request.messages, response=None)
        try:
            key = self._cache_key(backend, variant, request, role, seed)
            completion = self.cache.get(key) if key is not None and self.cache is not None else None
            if completion is None:
                # (no coroutine to await without a cost limit: a measurable share of a call's cost)
                reserved = None if self.cost_limit_usd is None else \
                    await self._reserve(backend.key, variant_name, request)
                try:
                    completion = await self._attempts(backend, variant, request, limiter, stats, rec)
                finally:  # no await from here to _account: waiters see this call's real cost
                    self._settle(backend.key, reserved)
                completion.text = storable(redact_known(completion.text))
                price = self.price(variant_name)
                stats.priced = price is not None
                completion.cost_usd = price.cost(completion.input_tokens, completion.output_tokens) if price else 0.0
                if key is not None and self.cache is not None:
                    self.cache.put(key, completion)
        except CallFailed as exc:
            rec.error = scrub(str(exc))
            stats.errors += 1
            usage.errors += 1
            raise
        finally:
            if record is not None:
                record.append(rec)
        self._account(completion, rec, stats, usage)
        return completion

    async def _reserve(self, key: str, variant_name: str, request: Request) -> float | None:
        """Room under the cost limit for this call (arena/engine/budget.py); None: nothing reserved."""
        if self.cost_limit_usd is None:
            return None
        most = estimate(self.price(variant_name), request.messages, request.params.max_tokens)
        if most is None:
            return None
        if not await self._reservations.reserve(key, most, self.cost_limit_usd, lambda: self.total_cost_usd):
            raise self._limit_reached()
        return most

    def _settle(self, key: str, amount: float | None) -> None:
        if amount is not None:
            self._reservations.settle(key, amount)

    def _limit_reached(self) -> CostLimitReached:
        return CostLimitReached(f"cost limit of ${self.cost_limit_usd:g} reached "
                                f"(spent ${self.total_cost_usd:.4f}); no further calls")

    def _cache_key(self, backend: Backend, variant: Variant, request: Request, role: str,
                   seed: int | None) -> str | None:
        if self.cache is None or not getattr(backend, "cacheable", True):
            return None
        extra: dict[str, Any] = {}  # only when set: the keys of calls without them stay what they were
        if request.constraint is not None:
            extra["constraint"] = request.constraint.key()
        if request.logprobs:
            extra["logprobs"] = request.logprobs
        return cache_key(backend=backend.key, adapter=variant.adapter, messages=request.messages,
                         params=request.params.to_dict(), call_seed=seed, role=role,
                         choices=list(request.choices) if request.choices is not None else None, **extra)

    def _account(self, completion: Completion, rec: CallRecord, stats: ModelStats, usage: Usage) -> None:
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
        self.total_cost_usd += completion.cost_usd
        if completion.cost_usd and self.on_spend is not None:
            self.on_spend(completion.cost_usd)

    async def _attempts(self, backend: Backend, variant: Variant, request: Request, limiter: AdaptiveLimit,
                        stats: ModelStats, rec: CallRecord) -> Completion:
        loop = asyncio.get_running_loop()
        timeouts = self._timeouts.get(variant.name)
        if timeouts is None:
            timeouts = self._timeouts[variant.name] = (
                _timeout_option(variant, "timeout", self.retry.call_timeout_s),
                _timeout_option(variant, "total_timeout", self.retry.total_timeout_s))
        call_timeout, total_timeout = timeouts
        deadline: float | None = None  # starts with the first attempt: queueing is not failing
        failures = waits = 0
        last = "no attempt made"
        while True:
            slot = limiter.try_acquire()  # no coroutine when a slot is free
            if slot is None:
                stats.waiting += 1
                try:
                    slot = await limiter.acquire()
                finally:
                    stats.waiting -= 1
            self._sync(stats, limiter)
            ok = False
            turn = None
            try:
                if hasattr(backend, "turn"):
                    turn = await self._turn(backend, stats)
                now = loop.time()  # after the wait for a slot and for the backend's turn
                if deadline is None:
                    deadline = now + total_timeout
                budget = min(call_timeout, deadline - now)
                if budget <= 0:
                    raise CallFailed(f"gave up after the overall timeout of {total_timeout:g}s: {last}")
                # One timer for many attempts (arena/engine/deadlines.py), not wait_for's task or
                # asyncio.timeout's timer per attempt (measured in bench/games.py and
                # bench/concurrency.py). A backend that never awaits (`instant`, e.g. a scripted
                # player) cannot be interrupted anyway.
                if getattr(backend, "instant", False):
                    completion = await backend.complete(request)
                else:
                    bounds = self._deadlines.get(call_timeout)
                    if bounds is None:
                        bounds = self._deadlines[call_timeout] = Deadlines()
                    async with bounds.bound(budget):
                        completion = await backend.complete(request)
                if getattr(backend, "claims_usage", True):  # a provider's token counts are bad input too
                    problem = usage_problem(completion, request)
                    if problem:
                        raise InvalidResponse(problem)
                cap_answer(completion, request)  # before anything scans or stores it
                ok = True
            except (asyncio.CancelledError, CallFailed):
                raise
            except Exception as exc:  # classified below; nothing escapes unexplained
                if isinstance(exc, asyncio.TimeoutError):
                    kind, retry_after = "transient", None
                    last = f"{variant.model}: timed out after {budget:g}s"
                elif isinstance(exc, InvalidResponse):
                    kind, retry_after = "transient", None
                    last = f"{variant.model}: {exc}"
                else:
                    kind, retry_after = backend.classify(exc)
                    last = storable(scrub(" ".join(str(exc).split()))[:600]) or type(exc).__name__
                if kind == RATE_LIMIT:
                    limiter.rate_limited(slot)
            finally:
                if turn is not None:
                    turn.release()
                limiter.release(slot, ok=ok)
                self._sync(stats, limiter)
            if ok:
                completion.retries = rec.retries
                return completion
            if kind == FATAL:
                raise CallFailed(last) from None
            if kind == RATE_LIMIT:
                stats.rate_limits += 1
                waits += 1
                if waits > self.retry.max_rate_limit_waits:
                    raise CallFailed(f"still rate limited after {waits} waits: {last}") from None
            else:
                failures += 1
                if failures >= self.retry.max_attempts:
                    raise CallFailed(f"gave up after {failures} failed attempts: {last}") from None
            delay = self.retry.backoff((waits if kind == RATE_LIMIT else failures) - 1, retry_after)
            if loop.time() + delay > deadline:
                raise CallFailed(f"gave up: waiting {delay:.1f}s more would pass the overall timeout of "
                                 f"{total_timeout:g}s: {last}") from None
            stats.retries += 1
            rec.retries += 1
            await asyncio.sleep(delay)

    @staticmethod
    async def _turn(backend: Backend, stats: ModelStats) -> Any:
        """Wait for the backend's turn, if it runs one call at a time (llama.cpp in-process): the
        call holds a slot meanwhile but is queued, not running, and its timeout has not started."""
        turn_of = getattr(backend, "turn", None)
        if turn_of is None:
            return None
        turn = turn_of()
        stats.queued += 1
        try:
            await turn.acquire()
        finally:
            stats.queued -= 1
        return turn

    @staticmethod
    def _sync(stats: ModelStats, limiter: AdaptiveLimit) -> None:
        stats.limit, stats.in_flight, stats.max_limit = limiter.limit, limiter.in_flight, limiter.maximum

    async def aclose(self) -> None:
        for be in self._backends.values():
            await be.aclose()
        if self.cache is not None:
            self.cache.close()
