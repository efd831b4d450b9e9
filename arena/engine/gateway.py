"""The one path every model call takes: system prompt, response cache, an adaptive
concurrency limit per (provider, endpoint, model), one retry loop for all providers, and
the tokens and cost of every call counted per model, per variant and per role
(arena/engine/accounting.py).

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

from arena.engine.accounting import ModelStats, Usage, count
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


@dataclass(slots=True)
class _Lane:
    """What every call of one variant needs, found once: its backend with that backend's limit and
    counters (shared by the variants of one model), its price and timeouts, and what the backend
    declares of itself (players/base.py)."""

    variant: Variant
    backend: Backend
    limiter: AdaptiveLimit
    stats: ModelStats
    price: Price | None
    call_timeout: float  # per attempt
    total_timeout: float  # per call
    bounds: Deadlines  # the attempts' timeouts, shared by every attempt of that length
    cacheable: bool
    instant: bool  # complete() never awaits, so no timeout could interrupt it
    takes_turns: bool  # one call at a time (llama.cpp in-process): queued until its turn
    claims_usage: bool  # its token counts are a server's claim, checked


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
    # The variants a tournament seats or asks to judge or author; None: all of `variants`. Counted
    # when models computing on this host divide its cores (co_tenants).
    in_play: frozenset[str] | None = None

    def __post_init__(self) -> None:
        self._backends: dict[str, Backend] = {}
        self._lanes: dict[str, _Lane] = {}
        self._limits: dict[str, AdaptiveLimit] = {}
        self._deadlines: dict[float, Deadlines] = {}  # per attempt timeout -> the attempts' bounds
        self._reservations = Reservations()  # the cost limit's, for paid calls in flight

    @classmethod
    def from_config(cls, cfg: Any, run_dir: str | Path | None = None) -> "Gateway":
        """The gateway a tournament config asks for; the cache lives in run_dir's store."""
        use_cache = getattr(cfg, "cache", True) and run_dir is not None
        roles = ("players", "referees", "meta_referees", "authors")
        in_play = frozenset(n for role in roles for n in getattr(cfg, role, ()) or ())
        return cls(cfg.variants, calls_per_model=cfg.calls_per_model, in_play=in_play or None,
                   retry=RetryPolicy(max_attempts=cfg.max_attempts, call_timeout_s=cfg.call_timeout_s,
                                     total_timeout_s=max(RetryPolicy.total_timeout_s, 2 * cfg.call_timeout_s)),
                   cache=ResponseCache.for_run(run_dir) if use_cache else None,
                   cost_limit_usd=getattr(cfg, "cost_limit_usd", None))

    # -- set-up -----------------------------------------------------------------------------
    def backend(self, variant_name: str) -> Backend:
        return self._lane(variant_name).backend

    def _lane(self, variant_name: str) -> _Lane:
        lane = self._lanes.get(variant_name)
        if lane is None:
            variant = self.variants[variant_name]
            be = self._backends[variant_name] = create_backend(variant)
            price = price_for(variant)
            limiter = self._limiter(be, variant, price)
            if hasattr(be, "pool_size"):
                be.pool_size = limiter.maximum  # HTTP connections match the concurrency ceiling
            if hasattr(be, "co_tenants"):  # models computing on this host divide its cores
                be.co_tenants = self._co_tenants(variant)
            call_timeout = _timeout_option(variant, "timeout", self.retry.call_timeout_s)
            lane = self._lanes[variant_name] = _Lane(
                variant, be, limiter, self.stats[be.key], price, call_timeout,
                _timeout_option(variant, "total_timeout", self.retry.total_timeout_s),
                self._deadlines.setdefault(call_timeout, Deadlines()), getattr(be, "cacheable", True),
                getattr(be, "instant", False), hasattr(be, "turn"), getattr(be, "claims_usage", True))
        return lane

    def _co_tenants(self, variant: Variant) -> int:
        """How many distinct models of `variant`'s provider this gateway may run at once."""
        names = self.variants.keys() if self.in_play is None else self.in_play | {variant.name}
        return len({(v.model, v.adapter) for v in map(self.variants.get, names)
                    if v is not None and v.provider == variant.provider})

    def _limiter(self, backend: Backend, variant: Variant, price: Price | None) -> AdaptiveLimit:
        limiter = self._limits.get(backend.key)
        if limiter is None:
            per_server = variant.options.get("max_connections", self.calls_per_model)
            if not isinstance(per_server, int) or isinstance(per_server, bool) or per_server < 1:
                per_server = self.calls_per_model
            servers = len(getattr(backend, "endpoints", None) or [None])
            limiter = self._limits[backend.key] = AdaptiveLimit(per_server * servers)
            self.stats[backend.key] = ModelStats(limiter, priced=price is not None)
        return limiter

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
        lane = self._lanes.get(variant_name) or self._lane(variant_name)
        variant = lane.variant
        params = variant.params
        changes: dict[str, Any] = {}  # one replace, not two: dataclasses.replace is slow per call
        if params.seed is None and seed is not None:
            changes["seed"] = seed
        if max_tokens is not None and max_tokens < params.max_tokens:
            changes["max_tokens"] = max_tokens
        if changes:
            params = params.replace(**changes)
        request = Request(self.full_messages(variant, messages), params, choices, constraint, logprobs)
        stats = lane.stats
        usage = self.usage.get((variant_name, role))
        if usage is None:
            usage = self.usage[(variant_name, role)] = Usage()
        if self.cost_limit_usd is not None and self.total_cost_usd >= self.cost_limit_usd:
            raise self._limit_reached()
        rec = CallRecord(match_id, variant_name, role, request.messages, None)  # positional: half the cost
        try:
            key = self._cache_key(lane, request, role, seed) if lane.cacheable and self.cache is not None else None
            completion = self.cache.get(key) if key is not None else None  # type: ignore[union-attr]
            if completion is None:
                # (no coroutine to await without a cost limit: a measurable share of a call's cost)
                reserved = None if self.cost_limit_usd is None else await self._reserve(lane, request)
                try:
                    completion = await self._attempts(lane, request, rec)
                finally:  # no await from here to count(): waiters see this call's real cost
                    self._settle(lane.backend.key, reserved)
                completion.text = storable(redact_known(completion.text))
                price = lane.price
                stats.priced = price is not None
                completion.cost_usd = price.cost(completion.input_tokens, completion.output_tokens) if price else 0.0
                if key is not None:
                    self.cache.put(key, completion)  # type: ignore[union-attr]
        except CallFailed as exc:
            rec.error = scrub(str(exc))
            stats.errors += 1
            usage.errors += 1
            raise
        finally:
            if record is not None:
                record.append(rec)
        count(completion, rec, stats, usage)
        if completion.cost_usd and not completion.cached:
            self.total_cost_usd += completion.cost_usd
            if self.on_spend is not None:
                self.on_spend(completion.cost_usd)
        return completion

    async def _reserve(self, lane: _Lane, request: Request) -> float | None:
        """Room under the cost limit for this call (arena/engine/budget.py); None: nothing reserved."""
        if self.cost_limit_usd is None:
            return None
        most = estimate(lane.price, request.messages, request.params.max_tokens)
        if most is None:
            return None
        if not await self._reservations.reserve(lane.backend.key, most, self.cost_limit_usd,
                                                lambda: self.total_cost_usd):
            raise self._limit_reached()
        return most

    def _settle(self, key: str, amount: float | None) -> None:
        if amount is not None:
            self._reservations.settle(key, amount)

    def _limit_reached(self) -> CostLimitReached:
        return CostLimitReached(f"cost limit of ${self.cost_limit_usd:g} reached "
                                f"(spent ${self.total_cost_usd:.4f}); no further calls")

    @staticmethod
    def _cache_key(lane: _Lane, request: Request, role: str, seed: int | None) -> str:
        extra: dict[str, Any] = {}  # only when set: the keys of calls without them stay what they were
        if request.constraint is not None:
            extra["constraint"] = request.constraint.key()
        if request.logprobs:
            extra["logprobs"] = request.logprobs
        return cache_key(backend=lane.backend.key, adapter=lane.variant.adapter, messages=request.messages,
                         params=request.params.to_dict(), call_seed=seed, role=role,
                         choices=list(request.choices) if request.choices is not None else None, **extra)

    async def _attempts(self, lane: _Lane, request: Request, rec: CallRecord) -> Completion:
        loop = asyncio.get_running_loop()
        backend, limiter, stats, variant = lane.backend, lane.limiter, lane.stats, lane.variant
        call_timeout, total_timeout = lane.call_timeout, lane.total_timeout
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
            ok = False
            turn = None
            try:
                if lane.takes_turns:
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
                if lane.instant:
                    completion = await backend.complete(request)
                else:
                    async with lane.bounds.bound(budget):
                        completion = await backend.complete(request)
                if lane.claims_usage:  # a provider's token counts are bad input too
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
        turn = backend.turn()  # type: ignore[attr-defined]
        stats.queued += 1
        try:
            await turn.acquire()
        finally:
            stats.queued -= 1
        return turn

    async def aclose(self) -> None:
        for be in self._backends.values():
            await be.aclose()
        if self.cache is not None:
            self.cache.close()
