"""Fill-in-the-blank questions the page itself answers.

The environment writes them, as predict-output's generator writes programs: one sentence of the
page with a name or a number blanked out. The blanked words are the reference, true by
construction (the page says them), so every match has at least one verified question even when the
authors' questions are unusable (a 135M author rarely copies a right answer from the page).
"""
from __future__ import annotations

import random
import re

from tournaments.families.trivia import scoring

BLANK = "____"
_SENTENCE = re.compile(r"[^.!?]*[^.!?\d][.!?](?=\s|$)|[^.!?]+$")
# A number, or a run of capitalised words (a name), as the words to blank out.
_SPAN = re.compile(r"\b\d[\d,]*\b|\b[A-Z][\w'-]+(?:\s+(?:of\s+|de\s+)?[A-Z][\w'-]+)*")


def cloze(text: str, rng: random.Random, avoid: list[str] = ()) -> tuple[str, str] | None:
    """(question, reference) from one sentence of `text`, or None when no sentence has a blankable span.
    A sentence that states one of the `avoid` answers (the authors' references) is not used."""
    found: list[tuple[str, str]] = []
    for sentence in (s.strip() for s in _SENTENCE.findall(text)):
        if not 40 <= len(sentence) <= 240:
            continue
        for m in _SPAN.finditer(sentence):
            if m.start() == 0:  # a sentence's first word is capitalised anyway, and the blank would lead
                continue
            question = f"Fill in the blank with the missing words: {sentence[:m.start()]}{BLANK}{sentence[m.end():]}"
            if scoring.verified(m.group(0), question, text) and not any(
                    set(scoring.words(a)) <= set(scoring.words(question)) for a in avoid if scoring.words(a)):
                found.append((question, m.group(0)))
    return rng.choice(found) if found else None
