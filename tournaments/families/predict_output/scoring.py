"""Scoring a prediction against a program's real output: the predict-output reward.

The score is a reward that training follows, so it is built to be sound rather than merely
similar-looking (docs/families-execution.md, "Outcome"):

- exact (after whitespace normalisation) is 1.0 and nothing else is: a committed answer
  scores 0.99 x closeness, closeness in [0, 1];
- closeness compares VALUES where both sides parse as Python literals (ast.literal_eval):
  numbers by relative numeric distance ("2" for "1" is close, "1000" is far, a wrong sign is
  far), lists/tuples/dicts/sets element by element, strings and anything else by a normalised
  edit similarity; a value of the right kind (a number for a number) earns KIND for the kind,
  so a committed wrong answer ranks above unrelated text, while a word where a number, bool or
  None was printed earns nothing (shared letters there are noise);
- the output is compared line by line (aligned in order, so one missing line costs one line)
  and as one flat sequence of printed fields (so a lost line break costs only half); both are
  divided by the longer side, so padding an answer with extra candidates dilutes it;
- a hedge, an answer that offers alternatives ("True or False", "either 3 or 4", "A / B",
  "maybe"), scores HEDGE x its WORST alternative: never more than committing to any of them.

Why rapidfuzz: difflib's ratio is a heuristic (junk rules, not symmetric, not an edit
distance); rapidfuzz's normalised Levenshtein similarity, 1 - distance / max(len), is a
well-defined metric-based similarity, in C, linear in memory on long adversarial answers.
"""
from __future__ import annotations

import ast
import math
import re
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import Levenshtein

MAX_CHARS = 8000  # longer answers are cut (and the cut part still counts against them by length)
MAX_FIELD_CHARS = 2000  # longer fields are compared as text, never parsed
DP_CELLS = 100_000  # alignment cells one score may spend; past them, align by position (linear)
KIND = 0.3  # share of closeness a value of the right kind earns whatever its value
HEDGE = 0.25  # a hedge earns a quarter of its worst alternative: below committing to any of them
_HEDGE_WORDS = ("or", "either", "maybe", "perhaps", "possibly", "probably", "might", "could", "depends",
                "depending")
_HEDGE = re.compile(r"\b(?:{})\b".format("|".join(_HEDGE_WORDS)), re.IGNORECASE)
_SPLIT_OR = re.compile(r"\s*,?\s*\bor\b\s*|\s+/\s+", re.IGNORECASE)
_FILLER = re.compile(r"(?:either|maybe|perhaps|possibly|probably|it (?:might|could) be|it depends(?: on \S+)?"
                     r"|depending on \S+)\b[ ,:;]*", re.IGNORECASE)  # anchored, one at a time: linear on hostile text
_SEPARATOR_LINE = re.compile(r"^[\W_]*(?:or|either|maybe|perhaps|possibly)[\W_]*$", re.IGNORECASE)


def normalise(text: str) -> str:
    """Whitespace-insensitive form: runs of blanks -> one space, line ends unified, outer blank lines dropped."""
    lines = [" ".join(line.split()) for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def similarity(prediction: str, truth: str) -> float:
    """The reward: 1.0 exact; else 0.99 x closeness, and a hedge HEDGE x its worst alternative."""
    p, t = normalise(prediction), normalise(truth)
    if p == t:
        return 1.0
    t = t[:MAX_CHARS]
    if not p or not t:
        return 0.0
    budget = _budget.set([DP_CELLS])  # per score, so the same answer always gets the same score
    try:
        alternatives = hedge_alternatives(p, t)
        if alternatives is not None:
            return round(0.99 * HEDGE * min(closeness(a, t) for a in alternatives), 4)
        return round(0.99 * closeness(p, t), 4)
    finally:
        _budget.reset(budget)


def hedge_alternatives(p: str, t: str) -> list[str] | None:
    """The candidate outputs a hedging prediction offers, or None when it commits to one.

    Hedge words count only where the real output does not itself contain them (a program may
    print "or"). Alternatives are blocks between separator lines ("or" alone on a line) or, on
    each line, the parts around "or" / " / "; candidate k takes every line's k-th part.
    """
    truth_words = {w.lower() for w in re.findall(r"\w+", t)}
    worded = any(m.group(0).lower() not in truth_words for m in _HEDGE.finditer(p[:MAX_CHARS]))
    if not worded and not (" / " in p and " / " not in t):
        return None
    lines = p[:MAX_CHARS].split("\n")
    blocks: list[list[str]] = [[]]
    for line in lines:
        if _SEPARATOR_LINE.match(line) and line.strip():
            blocks.append([])
        else:
            blocks[-1].append(line)
    blocks = [b for b in blocks if any(ln.strip() for ln in b)][:8]
    candidates: list[str] = []
    for block in blocks:
        parts = [[_unhedged(x) for x in _SPLIT_OR.split(line)] for line in block]
        parts = [[x for x in ps if x] or [""] for ps in parts]
        width = min(max(len(ps) for ps in parts), 8)
        candidates += ["\n".join(ps[min(k, len(ps) - 1)] for ps in parts).strip("\n") for k in range(width)]
    return [c for c in candidates if c] or [""]


def _unhedged(part: str) -> str:
    """One alternative without its hedge words ("either 3" -> "3", "maybe 4?" -> "4")."""
    part = part.strip(" ,;:?.")
    while (m := _FILLER.match(part)) and m.end():
        part = part[m.end():]
    return part.strip(" ,;:?.")


# -- closeness: value, then field, then line -----------------------------------------------------------
def closeness(p: str, t: str) -> float:
    """In [0, 1]: the mean of the line-aligned and the flat field-aligned closeness (1.0 for equal)."""
    if p == t:
        return 1.0
    if not p or not t:
        return 0.0
    if _budget.get() is None:  # called on its own, not from similarity()
        budget = _budget.set([DP_CELLS])
        try:
            return closeness(p, t)
        finally:
            _budget.reset(budget)
    p_lines, t_lines = p[:MAX_CHARS].split("\n"), t.split("\n")
    cut = p[MAX_CHARS:]  # what is cut off still counts against p, as unmatched lines and fields
    by_line = align(p_lines, t_lines, line_closeness, extra=cut.count("\n"))
    flat = align([f for ln in p_lines for f in fields(ln)], [f for ln in t_lines for f in fields(ln)],
                 field_closeness, extra=len(cut.split()))
    return (by_line + flat) / 2


def line_closeness(p: str, t: str) -> float:
    if p == t:
        return 1.0
    pf, tf = fields(p), fields(t)
    if len(pf) == 1 and len(tf) == 1:
        return field_closeness(pf[0], tf[0])
    return align(pf, tf, field_closeness)


def align(ps: list[str], ts: list[str], sim, extra: int = 0) -> float:
    """Order-preserving best alignment (a weighted longest common subsequence), / the longer side."""
    n, m = len(ps) + extra, len(ts)
    if not ps or not ts:
        return 1.0 if n == m == 0 else 0.0
    left = _budget.get()
    if len(ps) * m > left[0]:  # a huge or deeply repeated answer: by position, linear time
        return sum(sim(a, b) for a, b in zip(ps, ts)) / max(n, m)
    left[0] -= len(ps) * m
    prev = [0.0] * (m + 1)
    for a in ps:
        cur = [0.0] * (m + 1)
        for j, b in enumerate(ts, 1):
            cur[j] = max(prev[j], cur[j - 1], prev[j - 1] + sim(a, b))
        prev = cur
    return prev[m] / max(n, m)


def fields(line: str) -> list[str]:
    """What print() separated by spaces: split on blanks outside brackets and quotes ("[1, 2] 'a b'" -> 2)."""
    out, start, depth, quote, i = [], 0, 0, "", 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        elif c == " " and depth == 0:
            if i > start:
                out.append(line[start:i])
            start = i + 1
        i += 1
    if quote or depth:  # unbalanced: a plain split is the honest reading
        return line.split()
    if start < len(line):
        out.append(line[start:])
    return out


def field_closeness(p: str, t: str) -> float:
    if p == t:
        return 1.0
    pv, tv = literal(p), literal(t)
    if pv is not _TEXT and tv is not _TEXT:
        close = value_closeness(pv, tv, 0)
        # values of two kinds ([1, 2] where 4 was printed): still a committed value, above prose
        return max(text_closeness(p, t), KIND / 2) if close is None else close
    if _scalar(pv) or _scalar(tv):  # a word where a number/bool/None was printed: letters in common are noise
        return 0.0
    return text_closeness(p, t)


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (bool, int, float, complex))


def text_closeness(p: str, t: str) -> float:
    return Levenshtein.normalized_similarity(p, t)


_TEXT = object()  # "not a Python literal"
_budget: ContextVar[list[int] | None] = ContextVar("alignment_budget", default=None)


@lru_cache(maxsize=4096)
def literal(text: str) -> Any:
    if len(text) > MAX_FIELD_CHARS or not text or text[0].isalpha() and text not in ("True", "False", "None"):
        return _TEXT
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, OverflowError):
        return _TEXT


def _kind(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return type(v).__name__
    if isinstance(v, (int, float, complex)):
        return "number"
    return type(v).__name__


def value_closeness(p: Any, t: Any, depth: int) -> float | None:
    """Closeness of two parsed values, or None where they are not the same kind (compare as text)."""
    if depth > 20 or _kind(p) != _kind(t):
        return None
    if p == t and type(p) is type(t):
        return 1.0
    kind = _kind(p)
    if kind == "number":
        close = number_closeness(p, t)
        if close is None:
            return None
    elif kind == "str":
        close = text_closeness(p, t)
    elif kind in ("list", "tuple"):
        close = align(list(p), list(t), lambda a, b: _element(a, b, depth))
    elif kind in ("set", "frozenset"):
        close = len(p & t) / max(len(p), len(t)) if p or t else 1.0
    elif kind == "dict":
        keys = set(p) | set(t)
        close = sum(_element(p[k], t[k], depth) for k in keys if k in p and k in t) / len(keys) if keys else 1.0
    else:  # bool, None, bytes...: equal or not
        close = 1.0 if p == t else 0.0
    return KIND + (1 - KIND) * close


def _element(a: Any, b: Any, depth: int) -> float:
    close = value_closeness(a, b, depth + 1)
    return text_closeness(repr(a), repr(b)) if close is None else close


def number_closeness(p: Any, t: Any) -> float | None:
    """1 - |p - t| / (|p| + |t|): 1 equal, 2/3 for 2 vs 1, -> 0 as they part, 0 for a wrong sign."""
    try:
        diff, scale = abs(p - t), abs(p) + abs(t)
        close = 1.0 - float(diff) / float(scale) if scale else 1.0
    except (OverflowError, ValueError, TypeError):
        return None
    return close if math.isfinite(close) else None
