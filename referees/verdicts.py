"""Parsing referee verdicts from model text.

Accepted forms, anywhere in the reply (the LAST verdict in the text wins, so a
referee that reasons first and concludes later is read by its conclusion):

- pairwise: ``[[A]]``, ``[[B]]``, ``[[TIE]]`` (also DRAW/EQUAL/C for tie), a JSON object
  ``{"winner": "A"}`` / ``{"verdict": "tie"}``, a line ``Verdict: B`` / ``Winner: A``, or —
  only when none of those appear — a reply that is nothing but the label (``B``, ``"tie."``)
  or opens with a label and punctuation (``A: Paris``, ``[B] Eight``).
- listwise: ``[[C>A>B]]`` (``=`` for ties, ``,`` also separates), or JSON
  ``{"ranking": ["C", "A", "B"]}``. Every label must appear exactly once.

Anything else is None: the caller re-asks once, then records the verdict as missing.
"""
from __future__ import annotations

import json
import re

A, B, TIE = "A", "B", "TIE"
PAIR_CHOICES = ("[[A]]", "[[B]]", "[[TIE]]")  # for scripted referees; models never see them

_TIE_WORDS = {"TIE", "DRAW", "EQUAL", "T", "C", "BOTH", "SAME"}
_TOKEN = re.compile(r"\[\[\s*([A-Za-z]+)\s*\]\]")
# Possessive quantifiers (*+): adjacent optional runs of spaces and stars must not be split every
# possible way when no label follows (a wall of spaces after "Verdict:" took 46 s of backtracking).
_LINE = re.compile(r"\b(?:verdict|winner|better answer|final answer)\s*+(?:is|:|=)\s*+\**+\s*+\[?\s*+"
                   r"(?:answer\s++|referee\s++)?([AB]|tie|draw)\b", re.I)
_BARE = re.compile(r"^\W*(?:answer\s+)?([ABT]|tie|draw)\W*$", re.I)
# A reply that opens with a label and punctuation ("A: Paris", "[B] Eight", "B, because"): small
# models answer this way. Never "A spider has..." (the article), hence the punctuation.
_LEADING = re.compile(r"^\s*(?:\[|\()?\s*([ABT])\s*(?:\]|\))?\s*(?:[:.,)\]\-]|\n|$)")
_JSON = re.compile(r"\{[^{}]*\}", re.S)
_LIST_TOKEN = re.compile(r"\[\[([^\[\]]{1,200})\]\]")


def _label(word: str) -> str | None:
    w = word.strip().strip("\"'").upper()
    if w in (A, B):
        return w
    if w in _TIE_WORDS:
        return TIE
    return None


def _json_objects(text: str):
    for m in _JSON.finditer(text):
        try:
            obj = json.loads(m.group(0))
        except (ValueError, RecursionError):  # deep nesting ("[[[[...") is no verdict, not a crash
            continue
        if isinstance(obj, dict):
            yield m.end(), obj


def parse_pairwise(text: str | None) -> str | None:
    """"A", "B", "TIE" or None (no readable verdict)."""
    if not text or not isinstance(text, str):
        return None
    found: list[tuple[int, str]] = []
    for m in _TOKEN.finditer(text):
        label = _label(m.group(1))
        if label:
            found.append((m.end(), label))
    for end, obj in _json_objects(text):
        for key in ("winner", "verdict", "better", "choice"):
            value = obj.get(key)
            if isinstance(value, str) and _label(value):
                found.append((end, _label(value)))  # type: ignore[arg-type]
                break
    for m in _LINE.finditer(text):
        found.append((m.end(), _label(m.group(1))))  # type: ignore[arg-type]
    if not found:
        bare = _BARE.match(text) or _LEADING.match(text)
        return _label(bare.group(1)) if bare else None
    return max(found, key=lambda f: f[0])[1]


def parse_ranking(text: str | None, labels: list[str]) -> list[list[str]] | None:
    """Groups of labels best first (a group holds tied labels), or None."""
    if not text or not isinstance(text, str):
        return None
    wanted = {lab.upper() for lab in labels}
    found: list[tuple[int, list[list[str]]]] = []
    for m in _LIST_TOKEN.finditer(text):
        groups = _groups_from_string(m.group(1))
        if groups and _complete(groups, wanted):
            found.append((m.end(), groups))
    for end, obj in _json_objects(text):
        value = obj.get("ranking") or obj.get("order")
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            groups = [[v.strip().upper()] for v in value]
            if _complete(groups, wanted):
                found.append((end, groups))
    return max(found, key=lambda f: f[0])[1] if found else None


def _groups_from_string(s: str) -> list[list[str]]:
    groups = []
    for part in re.split(r"[>,;]", s):
        names = [n.strip().upper() for n in part.split("=")]
        if any(not re.fullmatch(r"[A-Z]", n) for n in names):
            return []
        groups.append(names)
    return groups


def _complete(groups: list[list[str]], wanted: set[str]) -> bool:
    flat = [x for g in groups for x in g]
    return len(flat) == len(set(flat)) and set(flat) == wanted
