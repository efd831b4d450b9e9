"""Small ranking rules shared by the execution-judged families.

Dense ranks themselves come from referees.aggregate.dense_ranks (one rule for the project).
- `accuracy_set`: the referees of a panel ranked by how often they agreed with ground truth,
  as a RankedSet (role=referee, criterion="accuracy"), and recorded in details.
- `verdict_truth_set`: where execution knows which of two answers is better, the right verdict
  letter is a verified answer to the judging prompt (role=referee, criterion="verdict-truth").
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from arena.records import REFEREE, Entry, RankedSet
from referees.prompts import PAIR_INSTRUCTION
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


def verdict_truth_set(panel: "PanelResult | None", truth: Sequence[float]) -> RankedSet | None:
    """The right verdict on the panel's first pair (shown A = candidate 0, B = candidate 1) over the
    wrong one, where the truth (ranks, lower = better) orders that pair.

    The environment knows the answer as it knows a program's output, so the right letter is a
    legitimate, verified answer: this is how referees get a training signal even when a panel has
    one referee, or reads its verdicts from probabilities and wrote no text. The wrong side is a
    referee's own wrong text verdict when one wrote it, else the other letter. Never rated: a
    referee's skill is rated by `accuracy_set` and its meta-referees."""
    if panel is None or not panel.judgments or len(truth) < 2 or truth[0] == truth[1]:
        return None
    prompt = panel.judgments[0].prompt
    messages = [prompt] if isinstance(prompt, dict) else list(prompt or [])
    content = messages[-1].get("content", "") if messages and isinstance(messages[-1], dict) else ""
    texts = [e.text for e in panel.ranked.entries]
    if PAIR_INSTRUCTION not in content or len(texts) < 2 or not all(
            f"Answer {lab}: {t.strip()[:40]}" in content for lab, t in zip("AB", texts)):
        return None  # not a two-answer prompt in candidate order: no letter is known to be right
    right, wrong = ("A", "B") if truth[0] < truth[1] else ("B", "A")
    entries = [Entry("execution", right, 0, 1.0, verified=True)]
    said = next((j for j in panel.judgments if j.method == "text" and j.text.strip()[:1].upper() == wrong), None)
    entries.append(Entry(said.referee, said.text, 1, 0.0) if said else Entry("execution", wrong, 1, 0.0))
    return RankedSet(REFEREE, messages, entries, "verdict-truth", rated=False, ranked_by="execution")
