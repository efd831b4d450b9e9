"""Referee accuracy against ground truth, where a family has one.

Convention (for any family): a match stores
    MatchResult.details["referee_accuracy"] = {referee_variant: [correct, total]}
Families with ground truth (predict-output: the real output; programming: validator
results; chess: the game result) call `record_accuracy(details, referee, correct)` once
per checked judgment, or `record_panel_accuracy(details, panel, truth)` to score every
referee of a panel against the true ranking of its candidates. `accuracy_by_referee(store)`
sums the counts over every finished match of a run.

What counts (record_panel_accuracy): every candidate pair the truth orders strictly and the
referee decided; a tie when the truth has a winner is wrong; a missing verdict is not counted;
pairs the truth calls equal are skipped (no right answer to a "which is better" question).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arena.engine.store import Store
    from arena.records import RefereeJudgment
    from referees.panel import PanelResult

KEY = "referee_accuracy"


def record_accuracy(details: dict[str, Any], referee: str, correct: bool, total: int = 1) -> None:
    """Count `total` checked judgments of `referee`, all right (correct=True) or all wrong."""
    counts = details.setdefault(KEY, {}).setdefault(referee, [0, 0])
    counts[0] += total if correct else 0
    counts[1] += total


def record_panel_accuracy(details: dict[str, Any], panel: "PanelResult", truth: Sequence[float]
                          ) -> list[tuple["RefereeJudgment", float]]:
    """Score each referee's pairwise results against true ranks (lower = better) of the candidates.

    Records the counts in details and returns (judgment, share right) for every referee that had
    anything to count, for a family that also ranks its referees by accuracy.
    """
    scored: list[tuple[RefereeJudgment, float]] = []
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
    return scored


def merge(into: dict[str, list[int]], counts: dict[str, Any]) -> None:
    for referee, pair in (counts or {}).items():
        if (isinstance(pair, (list, tuple)) and len(pair) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in pair)):
            acc = into.setdefault(referee, [0, 0])
            acc[0] += pair[0]
            acc[1] += pair[1]


def accuracy_by_referee(store: "Store") -> dict[str, list[int]]:
    """{referee: [correct, total]} over all finished matches in the store."""
    out: dict[str, list[int]] = {}
    for (raw,) in store.db.execute("SELECT details FROM matches WHERE status='finished' AND details IS NOT NULL"):
        details = json.loads(raw)
        if isinstance(details, dict):
            merge(out, details.get(KEY))
    return out
