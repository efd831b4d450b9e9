"""Per-referee bias statistics, computed from the verdicts stored with each match.

Families store panels in MatchResult.details["panels"] (referees/panel.py `add_to_details`);
every judgment there carries its raw verdicts (who was shown first, text lengths, winner).

- position bias: share of decisive verdicts (A or B) that went to the first-shown answer
  (0.5 = none; a referee that always says [[A]] scores 1.0)
- length bias: share of decisive verdicts between answers of different length that went
  to the longer one (0.5 = none)
- self-preference: share of decisive verdicts involving the referee's own performance that
  went to itself (only when self-judging was allowed; 0.5 = none)
- missing: verdicts unreadable after one re-ask, over all verdicts asked
Meta-referee verdicts (kind "meta") are kept apart under role "meta-referee".
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arena.records import META_REFEREE, REFEREE

if TYPE_CHECKING:
    from arena.engine.store import Store


@dataclass
class BiasStats:
    variant: str
    role: str
    verdicts: int = 0
    missing: int = 0
    ties: int = 0
    decisive: int = 0
    first_wins: int = 0
    length_decisive: int = 0
    longer_wins: int = 0
    self_decisive: int = 0
    self_wins: int = 0

    @staticmethod
    def _rate(n: int, d: int) -> float | None:
        return round(n / d, 4) if d else None

    @property
    def position_bias(self) -> float | None:
        return self._rate(self.first_wins, self.decisive)

    @property
    def length_bias(self) -> float | None:
        return self._rate(self.longer_wins, self.length_decisive)

    @property
    def self_preference(self) -> float | None:
        return self._rate(self.self_wins, self.self_decisive)

    @property
    def missing_rate(self) -> float | None:
        return self._rate(self.missing, self.verdicts)

    def add(self, v: dict[str, Any]) -> None:
        self.verdicts += 1
        winner = v.get("winner")
        if winner is None:
            self.missing += 1
            return
        if winner == "TIE":
            self.ties += 1
            return
        if winner not in ("A", "B"):
            return
        first_won = winner == "A"
        self.decisive += 1
        self.first_wins += first_won
        a_len, b_len = v.get("first_len") or 0, v.get("second_len") or 0
        if a_len != b_len:
            self.length_decisive += 1
            self.longer_wins += first_won == (a_len > b_len)
        first, second = v.get("first"), v.get("second")
        if first != second and self.variant in (first, second):
            self.self_decisive += 1
            self.self_wins += (first if first_won else second) == self.variant


def verdicts_of(details: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """(role, verdict dict) for every stored verdict in one match's details."""
    for panel in details.get("panels") or ():
        for j in panel.get("judgments") or ():
            for v in j.get("verdicts") or ():
                if isinstance(v, dict) and isinstance(v.get("referee"), str):
                    yield (META_REFEREE if v.get("kind") == "meta" else REFEREE), v


def bias_stats(details_iter: Iterable[dict[str, Any]]) -> dict[tuple[str, str], BiasStats]:
    out: dict[tuple[str, str], BiasStats] = {}
    for details in details_iter:
        if not isinstance(details, dict):
            continue
        for role, v in verdicts_of(details):
            key = (v["referee"], role)
            out.setdefault(key, BiasStats(*key)).add(v)
    return out


def stored_details(store: "Store") -> Iterable[dict[str, Any]]:
    for (raw,) in store.db.execute("SELECT details FROM matches WHERE status='finished' AND details IS NOT NULL"):
        yield json.loads(raw)


def bias_by_referee(store: "Store") -> dict[tuple[str, str], BiasStats]:
    return bias_stats(stored_details(store))
