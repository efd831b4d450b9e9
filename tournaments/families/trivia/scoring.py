"""How close a trivia answer is to a reference the page confirms.

A reference is *verified* when every content word of the author's answer occurs in the page (the
page says it, so it is a fact, not a guess of the author) and the answer is not given away by the
question. A verified reference grades answers by closeness: the token F1 of SQuAD (shared content
words, so padding an answer with guesses lowers its precision and cannot buy a win). An unverified
reference grades nothing; the referee panel ranks those answers instead.
"""
from __future__ import annotations

import re
from collections import Counter

# Words that carry no fact: "It is the Danube." and "Danube" are the same answer.
_STOP = frozenset("a an the is are was were be been it its this that of in on at to by for and or as with "
                  "from answer question".split())


def words(text: str) -> list[str]:
    """Content words, lower case, punctuation dropped ("2,850" -> "2850")."""
    text = re.sub(r"(?<=\d)[,.](?=\d{3}\b)", "", (text or "").lower())
    return [w for w in re.sub(r"[^\w\s]", " ", text).split() if w not in _STOP]


def verified(reference: str, question: str, page: str) -> bool:
    """The page contains every content word of the reference, and the question does not give it away."""
    ref = words(reference)
    if not ref or len(ref) > 8:
        return False
    on_page, asked = set(words(page)), set(words(question))
    return all(w in on_page for w in ref) and not all(w in asked for w in ref)


def closeness(answer: str, reference: str) -> float:
    """Token F1 of the answer against the reference, 0..1 (1: the same content words)."""
    got, ref = words(answer), words(reference)
    if not got or not ref:
        return 0.0
    common = sum((Counter(got) & Counter(ref)).values())
    if not common:
        return 0.0
    precision, recall = common / len(got), common / len(ref)
    return round(2 * precision * recall / (precision + recall), 4)
