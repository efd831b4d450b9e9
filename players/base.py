"""What every model backend provides.

A backend is built once per variant by a factory (configuration outside) and then
answers many requests concurrently (per-request async work inside). Retries, limits,
caching and accounting live in the engine's gateway, not in backends: a backend only
makes one attempt and says what kind of error it hit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from arena.records import Completion, Constraint, Messages, SamplingParams

# How the gateway treats a failed attempt.
RATE_LIMIT, TRANSIENT, FATAL = "rate-limit", "transient", "fatal"


@dataclass(frozen=True)
class Request:
    messages: Messages
    params: SamplingParams
    # The valid answers, when the task has a closed set (legal chess moves). Models
    # never see this field; scripted players choose from it.
    choices: tuple[str, ...] | None = None
    # A format the backend should enforce (records.Constraint); None: free text.
    constraint: Constraint | None = None
    # How many top alternatives per generated token to return with their log-probabilities
    # (Completion.top_logprobs); 0: none. Backends without log-probabilities ignore it.
    logprobs: int = 0


def sampling_kwargs(params: SamplingParams) -> dict:
    """The optional sampling parameters a variant set, in the chat-completions spelling."""
    out: dict = {k: v for k, v in (("temperature", params.temperature), ("top_p", params.top_p),
                                    ("seed", params.seed)) if v is not None}
    if params.stop:
        out["stop"] = list(params.stop)
    return out


class BackendError(Exception):
    """An attempt failed; `kind` tells the gateway whether to retry."""

    def __init__(self, message: str, kind: str = TRANSIENT, retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


class Backend(Protocol):
    # (provider, endpoint, model): the unit that gets one concurrency limit.
    key: str
    # Optional attributes the gateway reads with getattr: `cacheable` (responses may be
    # reused; default True), `claims_usage` (its token counts are a server's claim, checked;
    # default True), `pool_size` (set to the concurrency ceiling), `instant` (complete() never
    # awaits, so the per-attempt timeout is skipped).

    async def complete(self, request: Request) -> Completion: ...

    def classify(self, exc: BaseException) -> tuple[str, float | None]:
        """(RATE_LIMIT | TRANSIENT | FATAL, retry-after seconds or None)."""
        ...

    async def aclose(self) -> None: ...


def classify_default(exc: BaseException) -> tuple[str, float | None]:
    if isinstance(exc, BackendError):
        return exc.kind, exc.retry_after
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return TRANSIENT, None
    return FATAL, None
