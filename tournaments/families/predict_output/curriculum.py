"""What a played program teaches: solve rate, learnability, self-similarity, and truth pairs.

- solve rate p: the share of all k x seats predictions that are exact.
- learnability (Absolute Zero): an admitted program is worth 1 - p when 0 < p < 1, else 0 (a task
  nobody or everybody solves teaches nothing). The authors' RankedSet (criterion "learnability",
  ranked by execution) scores each proposal by it; unadmitted proposals rank below every admitted one.
- self-similarity: the mean pairwise similarity of one variant's own k normalised predictions
  (rapidfuzz's normalised Indel ratio), 1.0 = it said the same thing k times (mode collapse).
- truth sets: where execution knows the output, the output is a legitimate answer (the environment
  wrote it). One unrated RankedSet per distinct wrong prediction, (real output > that prediction),
  so every wrong prediction yields a pair whatever the export's pair mode (best-worst takes one pair
  per set). Never rated: "execution" is not a variant.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from rapidfuzz import fuzz

from arena.records import AUTHOR, PLAYER, Entry, Messages, RankedSet
from referees.aggregate import dense_ranks
from tournaments.families.predict_output.scoring import normalise

EXECUTION = "execution"  # the entry name of the real output in truth sets


@dataclass
class Prediction:
    variant: str
    seat: int
    text: str  # the whole answer (what is ranked and exported)
    value: str  # the prediction read from it
    score: float

    @property
    def exact(self) -> bool:
        return self.score == 1.0


def solve_rate(predictions: list[Prediction]) -> float:
    return sum(p.exact for p in predictions) / len(predictions) if predictions else 0.0


def learnability(p: float) -> float:
    """Absolute Zero's proposer reward: 1 - p strictly inside (0, 1), 0 at either end."""
    return round(1.0 - p, 6) if 0.0 < p < 1.0 else 0.0


def self_similarity(predictions: list[Prediction]) -> dict[str, float]:
    """Per variant with 2+ samples: mean pairwise similarity of its normalised predictions."""
    by_variant: dict[str, list[str]] = {}
    for p in predictions:
        by_variant.setdefault(p.variant, []).append(normalise(p.value))
    out = {}
    for variant, values in by_variant.items():
        pairs = list(itertools.combinations(values, 2))
        if pairs:
            out[variant] = round(sum(fuzz.ratio(a, b) / 100 for a, b in pairs) / len(pairs), 4)
    return out


def truth_answer(output: str) -> str:
    """The real output in exactly the format the prediction prompt asks for (one ``` block)."""
    return f"```\n{output.rstrip(chr(10))}\n```"


def truth_sets(prompt: Messages, output: str, predictions: list[Prediction]) -> list[RankedSet]:
    """(real output > wrong prediction) for each distinct wrong prediction, unrated."""
    seen: set[str] = set()
    sets = []
    truth = truth_answer(output)
    for p in predictions:
        key = normalise(p.value)
        if p.exact or key in seen or not p.text.strip():
            continue
        seen.add(key)
        entries = [Entry(EXECUTION, truth, 0, 1.0, verified=True), Entry(p.variant, p.text, 1, p.score, p.seat)]
        sets.append(RankedSet(PLAYER, prompt, entries, "truth", rated=False, exportable=True,
                              ranked_by="execution"))
    return sets


@dataclass
class Proposal:
    author: str
    text: str  # the author's last answer
    admitted: bool
    reward: float | None = None  # learnability once played; None: not admitted


def learnability_set(prompt: Messages, proposals: list[Proposal]) -> RankedSet | None:
    """Authors ranked by the learnability of what they proposed; unadmitted work below admitted.
    None when fewer than two proposals or when all tie (nothing to learn, nothing to rate)."""
    if len(proposals) < 2:
        return None
    keys = [(0, -(p.reward or 0.0)) if p.admitted else (1, 0.0) for p in proposals]
    ranks = dense_ranks([(a, round(b, 4)) for a, b in keys], lower_is_better=True)
    if len(set(ranks)) < 2:
        return None
    # admitted work passed the gate in the sandbox and its reward was measured by execution
    entries = [Entry(p.author, p.text, r, p.reward if p.admitted else 0.0, verified=p.admitted)
               for p, r in zip(proposals, ranks)]
    return RankedSet(AUTHOR, prompt, entries, "learnability", ranked_by="execution")
