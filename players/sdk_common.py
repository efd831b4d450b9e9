"""What the OpenAI and Anthropic backends share: both official SDKs raise the same
shapes of error, take an httpx2 client we size ourselves, and answer rate limits with
the same headers. The SDKs' own retries are always off; the gateway retries.
"""
from __future__ import annotations

import email.utils
import json
import math
import time
from types import ModuleType
from typing import Any, NamedTuple

import orjson

from arena.config import VariantOptions
from arena.records import Constraint
from arena.schema import setting
from players.base import FATAL, RATE_LIMIT, TRANSIENT, BackendError
from players.keys import scrub

# Status codes that are worth another attempt besides 429 and 5xx.
RETRYABLE_STATUS = {408, 409, 425}
# Quota exhaustion arrives as 429 but waiting does not help.
FATAL_RATE_CODES = {"insufficient_quota", "billing_hard_limit_reached"}


def retry_after(headers: Any) -> float | None:
    """Seconds to wait from retry-after-ms / retry-after (seconds or an HTTP date)."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
    except (TypeError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def provider_message(exc: BaseException) -> str:
    """The provider's own explanation (error.message in the body), scrubbed of keys."""
    return body_message(getattr(exc, "body", None),
                        getattr(exc, "message", None) or str(exc) or type(exc).__name__)


def body_message(body: Any, fallback: str) -> str:
    """error.message of an error body (or `fallback`), scrubbed of keys, on one line."""
    msg = None
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            msg = err.get("message")
        elif isinstance(err, str):
            msg = err
    if not msg:
        msg = fallback
    return scrub(" ".join(str(msg).split()))[:500]


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            code = err.get("code") or err.get("type")
            return str(code) if code else None
    return None


def classify_status(status: int, headers: Any, body: Any) -> tuple[str, float | None]:
    """rate-limit / transient / fatal for an HTTP error answer (status, its headers, its parsed body)."""
    after = retry_after(headers)
    if status == 429:
        return (FATAL, None) if _error_code(body) in FATAL_RATE_CODES else (RATE_LIMIT, after)
    if status >= 500 or status in RETRYABLE_STATUS:
        return TRANSIENT, after
    return FATAL, None


def classify_sdk(sdk: ModuleType, exc: BaseException) -> tuple[str, float | None]:
    """rate-limit / transient / fatal for an exception raised by an official SDK."""
    if isinstance(exc, BackendError):
        return exc.kind, exc.retry_after
    if isinstance(exc, sdk.APIStatusError):
        return classify_status(exc.status_code, getattr(exc.response, "headers", None), getattr(exc, "body", None))
    if isinstance(exc, (sdk.APIConnectionError, sdk.APIResponseValidationError)):
        return TRANSIENT, None  # timeouts, dropped connections, bodies that are not the promised schema
    if isinstance(exc, (json.JSONDecodeError, TimeoutError, ConnectionError)):
        return TRANSIENT, None  # a malformed body on a 200
    try:
        import pydantic
        if isinstance(exc, pydantic.ValidationError):
            return TRANSIENT, None
    except ImportError:  # pragma: no cover - pydantic ships with both SDKs
        pass
    return FATAL, None


# Exceptions raised while connecting, by (module prefix, class name): httpx's core and aiohttp's.
# httpx2's own ConnectTimeout is not among them: the SDKs' aiohttp transport raises it for any
# aiohttp connection error, a connection dropped mid-answer included.
_CONNECT_ERRORS = {("httpcore", "ConnectError"), ("httpcore", "ConnectTimeout"),
                   ("aiohttp", "ClientConnectorError"), ("aiohttp", "ClientConnectorDNSError"),
                   ("aiohttp", "ConnectionTimeoutError")}


def connect_failure(exc: BaseException) -> BaseException | None:
    """The innermost cause when the request never reached the server (refused, unreachable,
    no connection within the connect timeout), else None. Read from the exception chain:
    the aiohttp transport reports a refused connection as a connect *timeout*, and a dropped
    one the same way, so the outer exception types cannot tell."""
    seen, found, cur = set(), None, exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        kind = type(cur)
        if isinstance(cur, ConnectionRefusedError) or \
                (kind.__module__.split(".")[0].rstrip("0123456789"), kind.__name__) in _CONNECT_ERRORS:
            found = cur
        cur = cur.__cause__ or cur.__context__
    return found


def _innermost(exc: BaseException) -> BaseException | None:
    seen, cur, last = set(), exc.__cause__ or exc.__context__, None
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        last, cur = cur, cur.__cause__ or cur.__context__
    return last


def _timed_out(exc: BaseException) -> bool:
    """Whether the root cause is a timeout: the aiohttp transport wraps a dropped connection
    in the same timeout exception as a real one."""
    root = _innermost(exc)
    return root is None or isinstance(root, TimeoutError) or "Timeout" in type(root).__name__


def to_backend_error(sdk: ModuleType, provider: str, exc: BaseException) -> BackendError:
    """One scrubbed line a user can act on; the SDK exception (which holds the request
    and its auth headers) is dropped so it cannot end up in a log or traceback."""
    kind, after = classify_sdk(sdk, exc)
    status = getattr(exc, "status_code", None)
    refused = connect_failure(exc)
    if isinstance(exc, sdk.APITimeoutError) and refused is None and _timed_out(exc):
        text = f"{provider}: request timed out"
    elif isinstance(exc, sdk.APIConnectionError):
        cause = refused or _innermost(exc)
        detail = f" ({type(cause).__name__})" if cause is not None else ""
        text = f"{provider}: connection failed{detail}"
    elif status is not None:
        text = f"{provider} {status}: {provider_message(exc)}"
    elif isinstance(exc, json.JSONDecodeError):
        text = f"{provider}: response was not valid JSON"
    else:
        text = f"{provider}: {type(exc).__name__}: {scrub(str(exc))[:300]}"
    return BackendError(text, kind, after)


def http_client(sdk: ModuleType, pool_size: int, timeout_s: float) -> Any:
    """The SDK's own aiohttp-backed client (`DefaultAioHttpClient`), its pool sized to the
    concurrency limit. httpcore's default transport spends ~1 ms of CPU per request at a
    thousand connections (it scans its pool on every request); aiohttp's does not. Falls back
    to the plain httpx2 client when the SDK was installed without its aiohttp extra."""
    import httpx2
    kwargs = {"limits": httpx2.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
              "timeout": httpx2.Timeout(timeout_s, connect=min(10.0, timeout_s)), "follow_redirects": True}
    try:
        return sdk.DefaultAioHttpClient(**kwargs)
    except (AttributeError, RuntimeError):  # no aiohttp extra: the SDK says so by raising RuntimeError
        return httpx2.AsyncClient(**kwargs)


class ChatReply(NamedTuple):
    text: str
    input_tokens: Any
    output_tokens: Any
    finish_reason: str | None
    top_logprobs: list[dict[str, float]] | None  # per generated token, when the call asked and the server sent them


def read_json(raw: bytes | str) -> Any:
    """A server's JSON: orjson's parse where it reads it (the same values for a fraction of json's CPU;
    the openai-api client reads one body or many chunks a call), else json's, which also reads what
    orjson refuses (NaN, Infinity, integers past 64 bits, a lone surrogate escape) or raises ValueError."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def chat_completion_fields(raw: bytes, label: str) -> ChatReply:
    """The fields of a chat-completions body we use.

    Read here rather than by the SDK's typed models: a server's reply is bad input like any
    other, and anything off-schema is one transient error, not an AttributeError later."""
    try:
        data = read_json(raw)
    except ValueError:
        raise BackendError(f"{label}: response was not valid JSON", TRANSIENT) from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise BackendError(f"{label}: response had no choices", TRANSIENT)
    message = choices[0].get("message")
    text = message.get("content") if isinstance(message, dict) else None
    if text is not None and not isinstance(text, str):
        raise BackendError(f"{label}: response message content is not text", TRANSIENT)
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    finish = choices[0].get("finish_reason")
    return ChatReply(text or "", _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")),
                     finish if isinstance(finish, str) else None, _logprobs(choices[0].get("logprobs"), label))


def _logprobs(value: Any, label: str) -> list[dict[str, float]] | None:
    """choices[0].logprobs.content[i].top_logprobs as token -> logprob per token. Absent: None (a
    server that does not do logprobs); present but off-schema: a transient error like any bad body."""
    if value is None:
        return None
    content = value.get("content") if isinstance(value, dict) else None
    if content is None:
        return None
    out: list[dict[str, float]] = []
    try:
        for tok in content:
            alts = {}
            for alt in tok.get("top_logprobs") or []:
                lp = float(alt["logprob"])
                if not isinstance(alt["token"], str) or math.isnan(lp):
                    raise ValueError(alt)
                alts[alt["token"]] = min(lp, 0.0)  # a rounding error above 0 is still certainty
            out.append(alts)
    except (AttributeError, KeyError, TypeError, ValueError):
        raise BackendError(f"{label}: response logprobs are not the chat-completions shape", TRANSIENT) from None
    return out


def _count(value: Any) -> Any:
    # Absent is 0 (some servers send no usage); anything else goes on as sent, so the gateway
    # refuses a negative or non-integer figure instead of it silently costing nothing.
    return 0 if value is None else value


# The name hosted backends give a call's format: the structured-outputs schema's, or the forced tool's.
ANSWER = "answer"


def answer_schema(constraint: Constraint) -> tuple[dict[str, Any], bool]:
    """(the JSON schema to send, whether it wraps the answer as {"answer": ...}). Closed choices
    become a string enum under "answer"; a schema whose root is not an object is wrapped the same
    way, since structured outputs and tool inputs must be objects."""
    if constraint.choices:
        inner: dict[str, Any] = {"type": "string", "enum": list(constraint.choices)}
    else:
        inner = json.loads(constraint.schema or "{}")
        if inner.get("type") == "object":
            return inner, False
    return {"type": "object", "properties": {ANSWER: inner}, "required": [ANSWER],
            "additionalProperties": False}, True


def unwrap_answer(constraint: Constraint, value: Any) -> str:
    """The answer text from a constrained reply (JSON text, or a tool's parsed input). Anything
    not in the expected shape comes back as it was: the family's parser and re-ask judge it."""
    _, wrapped = answer_schema(constraint)
    data = value
    if isinstance(value, str):
        if not wrapped:
            return value
        try:
            data = json.loads(value)
        except ValueError:
            return value
    if wrapped and isinstance(data, dict) and set(data) == {ANSWER}:
        inner = data[ANSWER]
        if constraint.choices and isinstance(inner, str):
            return inner
        if not constraint.choices:
            return json.dumps(inner)
    return value if isinstance(value, str) else json.dumps(value)


class HostedOptions(VariantOptions):
    """Variant options every hosted backend understands, besides the engine's (timeouts, prices)."""
    api_key_env: str | None = setting(None, must="the name of an environment variable")
    api_key: str | None = setting(None, must="a non-empty string (better: api_key_env = \"VARIABLE\")")
