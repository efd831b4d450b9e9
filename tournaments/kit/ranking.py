"""Small ranking rules shared by the execution-judged families.

- `lexicographic`: dense ranks from several keys (best first), ties where every key ties.
- `accuracy_set`: the referees of a panel ranked by how often they agreed with ground truth,
  as a RankedSet (role=referee, criterion="accuracy"), and recorded in details.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from arena.records import REFEREE, Entry, RankedSet
from referees.accuracy import record_accuracy

if TYPE_CHECKING:
    from referees.panel import PanelResult


def lexicographic(keys: Sequence[tuple[float, ...]]) -> list[int]:
    """Dense ranks (0 best) for key tuples where a SMALLER tuple is better."""
    levels = sorted(set(keys))
    return [levels.index(k) for k in keys]


def ranks_from_scores(scores: Sequence[float], places: int = 6) -> list[int]:
    """Dense ranks (0 best) where a HIGHER score is better; scores equal to `places` decimals tie."""
    return lexicographic([(-round(s, places),) for s in scores])


def decided(panel: "PanelResult | None") -> bool:
    """Whether a panel decided anything (its note says why not; `rated` may be off on purpose)."""
    return panel is not None and not panel.note and bool(panel.judgments)


def panel_ranks(panel: "PanelResult | None", n: int) -> list[int]:
    """The panel's ranks, or all tied when there was no decided panel."""
    if not decided(panel):
        return [0] * n
    return [e.rank for e in panel.ranked.entries]


def accuracy_set(details: dict[str, Any], panel: "PanelResult | None", truth: Sequence[float],
                 criterion: str = "accuracy") -> RankedSet | None:
    """Score each referee's pairwise results against the true ranks (lower = better).

    Counted: pairs the truth orders strictly that the referee decided (a tie when the truth
    has a winner is wrong; missing verdicts are not counted). Adds the counts to
    details["referee_accuracy"] and returns the referees ranked by accuracy (None when fewer
    than two referees had anything to count).
    """
    if panel is None:
        return None
    scored: list[tuple[Any, float]] = []
    for j in panel.judgments:
        right = total = 0
        for i, k, result in j.results:
            if result is None or truth[i] == truth[k]:
                continue
            total += 1
            right += result == (1 if truth[i] < truth[k] else -1)
        if total:
            record_accuracy(details, j.referee, True, right)
            record_accuracy(details, j.referee, False, total - right)
            scored.append((j, right / total))
    if len(scored) < 2:
        return None
    ranks = ranks_from_scores([acc for _, acc in scored], places=4)
    entries = [Entry(j.referee, j.text, r, round(acc, 4)) for (j, acc), r in zip(scored, ranks)]
    return RankedSet(REFEREE, scored[0][0].prompt, entries, criterion, None, len(set(ranks)) > 1)
