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

Strict, JudgeBench-style (record_strict): every referee and the panel as a whole, per pair the
truth orders strictly, is right only if BOTH seat orders alone preferred the truly better candidate
(an inconsistent pair, a tie or a missing verdict is wrong), counted per bucket of the verified
quality gap |score_i - score_j| (scores in [0, 1]; "rank" when only ranks are known):
    MatchResult.details["strict_accuracy"] = {name: {"method": m, "buckets": {bucket: [right, total]}}}
where name is a referee variant, or "panel:" + its referees joined by "+". `strict_by_judge(store)`
sums them over a run; `wilson` gives the 95% interval of a share.
"""
from __future__ import annotations

import json
import math
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


STRICT = "strict_accuracy"
GAP_EDGES = (0.1, 0.3, 0.6)  # verified quality gap buckets: <0.1, 0.1-0.3, 0.3-0.6, >=0.6
BUCKETS = ("<0.1", "0.1-0.3", "0.3-0.6", ">=0.6", "rank")


def gap_bucket(gap: float | None) -> str:
    """The bucket of a verified quality gap (None: only ranks are known)."""
    if gap is None:
        return "rank"
    for edge, name in zip(GAP_EDGES, BUCKETS):
        if gap < edge:
            return name
    return BUCKETS[3]


def _orders(judgment: "RefereeJudgment", i: int, j: int) -> list[int | None]:
    """What each seat order alone said about i vs j; a judgment without per-order readings (a
    listwise one: its two readings are already merged, disagreement = tie) counts its result twice."""
    for p in judgment.pairs or []:
        if p.get("i") == i and p.get("j") == j:
            return list(p.get("orders") or [None, None])
    result = next((r for a, b, r in judgment.results if a == i and b == j), None)
    return [result, result]


def _net(votes: list[int | None]) -> int | None:
    got = [v for v in votes if v is not None]
    if not got:
        return None
    s = sum(got)
    return (s > 0) - (s < 0)


def strict_right(orders: Sequence[int | None], truth: int) -> bool:
    """Right in both seat orders: an inconsistent, tied or missing reading is wrong."""
    return len(orders) == 2 and all(o == truth for o in orders)


def record_strict(details: dict[str, Any], panel: "PanelResult", truth: Sequence[float],
                  scores: Sequence[float] | None = None) -> None:
    """Strict accuracy of every referee and of the panel (per seat order: the net vote of its
    referees' readings) against true ranks (lower = better), bucketed by the verified score gap."""
    judgments = list(panel.judgments)
    if not judgments:
        return
    out = details.setdefault(STRICT, {})
    panel_name = "panel:" + "+".join(j.referee for j in judgments)
    names = [(j.referee, j.method) for j in judgments] + [(panel_name, "+".join(j.method for j in judgments))]
    n = len(truth)
    for i in range(n):
        for k in range(i + 1, n):
            if truth[i] == truth[k]:
                continue
            sign = 1 if truth[i] < truth[k] else -1
            bucket = gap_bucket(abs(scores[i] - scores[k]) if scores is not None else None)
            per = [_orders(j, i, k) for j in judgments]
            readings = per + [[_net([o[0] for o in per]), _net([o[1] for o in per])]]
            for (name, method), orders in zip(names, readings):
                row = out.setdefault(name, {"method": method, "buckets": {}})
                counts = row["buckets"].setdefault(bucket, [0, 0])
                counts[0] += strict_right(orders, sign)
                counts[1] += 1


def strict_by_judge(store: "Store") -> dict[tuple[str, str], dict[str, list[int]]]:
    """{(name, method): {bucket: [right, total]}} over every finished match of a run."""
    out: dict[tuple[str, str], dict[str, list[int]]] = {}
    for (raw,) in store.db.execute("SELECT details FROM matches WHERE status='finished' AND details IS NOT NULL"):
        details = json.loads(raw)
        table = details.get(STRICT) if isinstance(details, dict) else None
        for name, row in (table or {}).items():
            if not isinstance(row, dict) or not isinstance(row.get("buckets"), dict):
                continue
            into = out.setdefault((str(name), str(row.get("method") or "text")), {})
            merge(into, row["buckets"])
    return out


def wilson(right: int, total: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of right/total (95% by default); None for no data."""
    if total <= 0:
        return None
    p = right / total
    centre = p + z * z / (2 * total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    scale = 1 + z * z / total
    return round(max(0.0, (centre - half) / scale), 4), round(min(1.0, (centre + half) / scale), 4)
