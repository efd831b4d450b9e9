"""Small ranking rules shared by the execution-judged families.

Dense ranks themselves come from referees.aggregate.dense_ranks (one rule for the project).
- `accuracy_set`: the referees of a panel ranked by how often they agreed with ground truth,
  as a RankedSet (role=referee, criterion="accuracy"), and recorded in details.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from arena.records import REFEREE, Entry, RankedSet
from referees.accuracy import record_panel_accuracy, record_strict
from referees.aggregate import dense_ranks

if TYPE_CHECKING:
    from referees.panel import PanelResult


def decided(panel: "PanelResult | None") -> bool:
    """Whether a panel decided anything (its note says why not; `rated` may be off on purpose)."""
    return panel is not None and not panel.note and bool(panel.judgments)


def panel_ranks(panel: "PanelResult | None", n: int) -> list[int]:
    """The panel's ranks, or all tied when there was no decided panel."""
    if not decided(panel):
        return [0] * n
    return [e.rank for e in panel.ranked.entries]


def accuracy_set(details: dict[str, Any], panel: "PanelResult | None", truth: Sequence[float],
                 criterion: str = "accuracy", scores: Sequence[float] | None = None) -> RankedSet | None:
    """Score each referee's pairwise results against the true ranks (lower = better).

    Also records the strict (JudgeBench-style) accuracy of every referee and of the panel, by
    verified score gap when `scores` (in [0, 1], higher = better) are given: referees/accuracy.py.

    Counted: pairs the truth orders strictly that the referee decided (a tie when the truth
    has a winner is wrong; missing verdicts are not counted). Adds the counts to
    details["referee_accuracy"] and returns the referees ranked by accuracy (None when fewer
    than two referees had anything to count).
    """
    if panel is None:
        return None
    record_strict(details, panel, truth, scores)
    scored = record_panel_accuracy(details, panel, truth)
    if len(scored) < 2:
        return None
    ranks = dense_ranks([round(acc, 4) for _, acc in scored])
    entries = [Entry(j.referee, j.text, r, round(acc, 4)) for (j, acc), r in zip(scored, ranks)]
    return RankedSet(REFEREE, scored[0][0].prompt, entries, criterion, None, len(set(ranks)) > 1,
                     ranked_by="execution")  # against the executed truth
