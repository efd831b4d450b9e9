"""Bounds on what a provider's answer may claim: its size and its token usage.

A provider (or whatever answers at its URL) is as untrusted as the model: a 20 MB answer to a
256-token call would be stored, cached and exported, and a usage figure is money (a negative
one would refund the cost limit, a huge one would spend it).
"""
from __future__ import annotations

from arena.records import Completion
from players.base import Request

# A token is rarely more than ~16 characters; 64 leaves room for odd tokenizers and whitespace runs.
CHARS_PER_TOKEN_CAP = 64
MIN_CAP_CHARS = 4096
TRUNCATED = "truncated"  # the finish_reason of an answer cut to the cap


class InvalidResponse(Exception):
    """The provider's answer is not believable; a transient failure (the next attempt may be sane)."""


def answer_cap(request: Request) -> int:
    return max(CHARS_PER_TOKEN_CAP * request.params.max_tokens, MIN_CAP_CHARS)


def cap_answer(completion: Completion, request: Request) -> Completion:
    """Cut an answer longer than the call could have produced; its finish_reason says so."""
    cap = answer_cap(request)
    if len(completion.text) > cap:
        completion.text = completion.text[:cap]
        completion.finish_reason = TRUNCATED
    return completion


def usage_problem(completion: Completion, request: Request) -> str | None:
    """Why the usage figures cannot be true, or None. Bounds are orders of magnitude above real
    figures: prompt tokens by the prompt's UTF-8 bytes (a byte-level tokenizer makes at most one
    token per byte, plus chat-template overhead), output tokens by max_tokens."""
    if all(type(v) is int and 0 <= v <= 4096 for v in (completion.input_tokens, completion.output_tokens)):
        return None  # inside every bound: the prompt need not be measured (most calls)
    prompt_bytes = sum(len(str(m.get("content", "")).encode("utf-8", "replace")) for m in request.messages)
    bounds = {"input": 4 * prompt_bytes + 4096, "output": 4 * request.params.max_tokens + 4096}
    for name, value in (("input", completion.input_tokens), ("output", completion.output_tokens)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"invalid usage: {name} tokens {str(value)[:40]!r} is not a token count"
        if value > bounds[name]:
            return f"invalid usage: {value} {name} tokens is beyond anything this call could use ({bounds[name]})"
    return None
