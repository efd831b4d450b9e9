"""The programming verdict: a solution's answers compared with the validator's expected values.

This runs engine-side, in trusted Python, on data only: the expected values come from the
validator's process, the answers from the solution's (tournaments/families/programming/harness.py),
and neither process ever saw the other's. Half the cases (every second one) are held out: the
referees see results on the other half only, and are scored against the held-out half, so
their accuracy is measured on truth they were not shown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def held_out(index: int) -> bool:
    """Whether case `index` (0-based, in the validator's order) is hidden from the referees."""
    return index % 2 == 1


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, bool) or want is None:
        return got is want
    if isinstance(want, (int, float)):
        if isinstance(got, bool) or not isinstance(got, (int, float)) or not math.isfinite(got):
            return False
        return abs(got - want) <= 1e-6 + 1e-9 * abs(want)
    if isinstance(want, str):
        return isinstance(got, str) and got == want
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_same, got, want))
    if isinstance(want, dict):
        return isinstance(got, dict) and set(got) == set(want) and all(_same(got[k], v) for k, v in want.items())
    return False


def same(got: Any, want: Any) -> bool:
    """JSON values equal, numbers within a small tolerance (true/1 and 1/1.0 as in JSON: bool apart)."""
    try:
        return _same(got, want)
    except RecursionError:  # absurdly deep values: not an answer
        return False


@dataclass
class ValidatorReport:
    """What one validator's cases said about one solution."""

    passed: int
    total: int
    extras: dict[str, Any] = field(default_factory=dict)  # edge/hidden counts, errors, time_s, failures...

    @property
    def failed(self) -> int:
        return self.total - self.passed

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed, "total": self.total,
                "pass_rate": round(self.pass_rate, 4), **self.extras}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def judge_case(case: dict[str, Any], answer: dict[str, Any] | None, per_case_s: float) -> tuple[bool, str]:
    """(passed, why not) for one case and the solution's answer to it."""
    if answer is None:
        return False, "no answer (the solution's process ended or hung before this call returned)"
    if answer.get("timeout"):
        return False, f"CaseTimeout: took longer than {per_case_s:g}s"
    if "crash" in answer:
        return False, "crashed: " + str(answer["crash"])[:120]
    if case.get("raises"):
        if "raised" in answer:
            return True, ""
        return False, "expected an error, got " + _short(answer.get("ok"))
    if "raised" in answer:
        return False, "raised " + str(answer["raised"])[:120]
    if "ok" not in answer:
        return False, "no answer"
    if same(answer["ok"], case["expected"]):
        return True, ""
    return False, f"expected {_short(case['expected'])}, got {_short(answer['ok'])}"


def score(cases: list[dict[str, Any]], answers: list[dict[str, Any] | None], load_error: str | None,
          per_case_s: float, time_s: float) -> ValidatorReport:
    """The report of one solution on one validator's cases, with the held-out half counted apart."""
    passed = edge_passed = edge_total = hidden_passed = hidden_total = errors = 0
    shown_failures: list[str] = []
    hidden_failures: list[str] = []
    for i, case in enumerate(cases):
        ok, note = (False, "could not load the solution") if load_error is not None else \
            judge_case(case, answers[i] if i < len(answers) else None, per_case_s)
        hidden = held_out(i)
        edge_total += bool(case.get("edge"))
        hidden_total += hidden
        if ok:
            passed += 1
            edge_passed += bool(case.get("edge"))
            hidden_passed += hidden
            continue
        errors += note.startswith(("raised", "crashed", "CaseTimeout", "no answer"))
        failures = hidden_failures if hidden else shown_failures
        if len(failures) < 4:
            failures.append(f"case {i + 1}: {note}"[:200])
    extras: dict[str, Any] = {"edge_passed": edge_passed, "edge_total": edge_total, "hidden_passed": hidden_passed,
                              "hidden_total": hidden_total, "errors": errors, "time_s": round(time_s, 4),
                              "failures": shown_failures, "hidden_failures": hidden_failures}
    if load_error is not None:
        extras["import_error"] = load_error[:300]
    return ValidatorReport(passed, len(cases), extras)


def shown(report: dict[str, Any]) -> tuple[int, int]:
    """(passed, total) on the cases the referees may see."""
    return (report["passed"] - report.get("hidden_passed", 0), report["total"] - report.get("hidden_total", 0))


def hidden_rate(report: dict[str, Any] | None) -> float | None:
    """The pass rate on the held-out cases (None when a validator holds none back)."""
    if not report or not report.get("hidden_total"):
        return None
    return report["hidden_passed"] / report["hidden_total"]
