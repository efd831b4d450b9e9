"""The ordinary questions: a small offline set of everyday instructions and questions with
short checkable answers, shipped with the project (data/ordinary.jsonl), to see whether
training on arena pairs erases baseline skills (forgetting) and to guard against it.

Two disjoint splits: "train" may be trained on (the loop's anchor pairs come from it),
"heldout" never is (the loop's evaluation asks it).

The scoring rule: an answer is correct when, after normalisation, it contains one of the
item's reference answers as a whole run of words. Normalisation: Unicode NFKC, lower case
(unless the item is case-sensitive, e.g. "reply with X in capitals"), digit groups joined
("1,000" -> "1000"), every character that is not a letter or digit becomes a space, runs of
spaces collapse. So "The capital is Paris." contains "paris", "1000 m" contains "1000", but
"10000" does not contain "1000". Answers longer than MAX_CHARS are wrong: a reply that lists
everything is not an answer.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from arena.errors import UserError

DATA = Path(__file__).parent / "data" / "ordinary.jsonl"
SPLITS = ("train", "heldout")
MAX_CHARS = 400
_GROUPS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_NOT_WORD = re.compile(r"[^\w]|_")


@dataclass(frozen=True)
class OrdinaryItem:
    id: str
    split: str
    kind: str  # fact | arithmetic | instruction | definition | unit
    prompt: str
    answers: tuple[str, ...]
    case: bool = False  # the answer's letter case is part of the instruction

    def correct(self, answer: str) -> bool:
        if not answer or len(answer) > MAX_CHARS:
            return False
        text = f" {normalise(answer, self.case)} "
        return any(f" {normalise(ref, self.case)} " in text for ref in self.answers)


def normalise(text: str, case: bool = False) -> str:
    text = unicodedata.normalize("NFKC", text)
    if not case:
        text = text.lower()
    return " ".join(_NOT_WORD.sub(" ", _GROUPS.sub("", text)).split())


@lru_cache(maxsize=4)
def load(path: Path = DATA) -> tuple[OrdinaryItem, ...]:
    items = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            item = OrdinaryItem(row["id"], row["split"], row["kind"], row["prompt"], tuple(row["answers"]),
                                bool(row.get("case", False)))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise UserError(f"{path}:{no}: not an ordinary-question row ({exc})") from None
        if item.split not in SPLITS or not item.answers:
            raise UserError(f"{path}:{no}: split must be one of {SPLITS} and answers non-empty")
        items.append(item)
    return tuple(items)


def split(name: str, n: int | None = None) -> list[OrdinaryItem]:
    """The first n items of a split, taken round-robin over the kinds so a small n stays varied."""
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}")
    by_kind: dict[str, list[OrdinaryItem]] = {}
    for item in load():
        if item.split == name:
            by_kind.setdefault(item.kind, []).append(item)
    out: list[OrdinaryItem] = []
    queues = [list(v) for _, v in sorted(by_kind.items())]
    while any(queues) and (n is None or len(out) < n):
        for q in queues:
            if q and (n is None or len(out) < n):
                out.append(q.pop(0))
    return out
