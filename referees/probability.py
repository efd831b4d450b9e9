"""Verdicts as probabilities: what a referee's token log-probabilities say, not what it wrote.

- `label_share(top_logprobs)`: P("A") / (P("A") + P("B")) at the first generated position whose top
  alternatives hold either label. Tokens are read loosely (" A", "[A", "(B", "**A", "a": spaces,
  brackets, quotes and stars around one letter), and every spelling of a label adds its mass.
- `both_orders(p_forward, p_backward)`: p(i better) = 1/2 [P(A | i shown first) + P(B | i shown
  second)]; position bias cancels instead of deciding.
- `decide(p)`: +1 / -1, or 0 (abstain) when |p - 1/2| < ABSTAIN.
- `likelihood_p(a, b)`: the likelihood verifier's p from two mean token log-likelihoods (logistic
  of the difference: a Bradley-Terry reading of the verifier's scores).
"""
from __future__ import annotations

import math
import re

ABSTAIN = 0.02  # |p - 0.5| below this is a tie: the referee has no real preference
TOP_LOGPROBS = 20  # alternatives asked per token: enough for both labels to appear in practice
PROBABILITY_TOKENS = 3  # a verdict letter, possibly after a bracket or a space token

_DECOR = re.compile(r"^[\s\[\]\(\)\*\"'`:.#_]*([A-Za-z])[\s\[\]\(\)\*\"'`:.,#_]*$")


def token_label(token: str) -> str | None:
    """"A" or "B" when the token is one of those letters with only decoration around it."""
    m = _DECOR.match(token or "")
    if not m:
        return None
    letter = m.group(1).upper()
    return letter if letter in ("A", "B") else None


def _logsumexp(xs: list[float]) -> float:
    top = max(xs)
    return top + math.log(sum(math.exp(x - top) for x in xs))


def label_share(top_logprobs: list[dict[str, float]] | None) -> float | None:
    """P(A) normalised over A and B at the first position where either label is among the top
    alternatives; None when none is (an unreadable verdict, like a text one)."""
    for position in top_logprobs or []:
        mass: dict[str, list[float]] = {"A": [], "B": []}
        for token, lp in position.items():
            label = token_label(token)
            if label is not None and math.isfinite(lp):
                mass[label].append(lp)
        if not mass["A"] and not mass["B"]:
            continue
        if not mass["B"]:
            return 1.0
        if not mass["A"]:
            return 0.0
        a, b = _logsumexp(mass["A"]), _logsumexp(mass["B"])
        return 1.0 / (1.0 + math.exp(b - a))
    return None


def both_orders(p_forward: float | None, p_backward: float | None) -> float | None:
    """p(i better) from P(A) with i shown first and P(A) with j shown first; None if either is missing."""
    if p_forward is None or p_backward is None:
        return None
    return 0.5 * (p_forward + (1.0 - p_backward))


def decide(p: float | None, abstain: float = ABSTAIN) -> int | None:
    """+1 (i better), -1 (j better), 0 (abstain: too close to a coin), None (no probability)."""
    if p is None:
        return None
    if abs(p - 0.5) < abstain:
        return 0
    return 1 if p > 0.5 else -1


def order_reading(p_shown_first: float | None) -> int | None:
    """What one seat order alone says about the candidate shown first: +1, -1, 0 or None."""
    if p_shown_first is None:
        return None
    return (p_shown_first > 0.5) - (p_shown_first < 0.5)


def likelihood_p(mean_a: float, mean_b: float) -> float:
    """P(a better) from two mean token log-likelihoods."""
    d = mean_a - mean_b
    if not math.isfinite(d):
        return 0.5 if math.isnan(d) else (1.0 if d > 0 else 0.0)
    return 1.0 / (1.0 + math.exp(-d))
