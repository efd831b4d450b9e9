"""Running validators and solutions in the sandbox (the only place model-written code runs).

A validator runs alone, once, and prints its test cases; each solution then runs in its own
sandboxed process through the driver (harness.py), which sees only the call arguments; the
verdict is computed here from the two (verdict.py). A validator is kept only if its cases fail
a do-nothing stub somewhere and, when a reference solution exists (the built-in one, else the
author's), the reference passes more of them than the stub. Anything else is a FormatError with
a reason for the re-ask.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from referees.sandbox import run_javascript, run_python
from tournaments.families.programming.harness import (
    DRIVER,
    SOLUTION_FILE,
    driver_job,
    parse_cases,
    read_outputs,
)
from tournaments.families.programming.prompts import (
    Challenge,
    ValidatorDraft,
    stub_solution,
)
from tournaments.families.programming.verdict import hidden_rate, score, shown
from tournaments.kit.extract import FormatError

MAX_OUTPUT_BYTES = 1_000_000


@dataclass
class Limits:
    timeout_s: float = 5.0
    memory_mb: int = 256


@dataclass
class Validator:
    label: str  # "builtin" or "V1", "V2", ... in author order
    author: str | None
    code: str  # the program that printed the cases ("" for a built-in challenge's own cases)
    cases: list[dict[str, Any]] = field(default_factory=list)
    reference: str | None = None
    text: str = ""  # the author's answer, as ranked
    check: dict[str, Any] = field(default_factory=dict)  # stub / reference reports from the sandbox check

    def summary(self) -> str:
        stub, ref = self.check.get("stub"), self.check.get("reference")
        parts = [f"{len(self.cases)} cases",
                 f"do-nothing stub passes {stub['passed']}/{stub['total']}" if stub else "stub: no report"]
        if ref:
            parts.append(f"reference solution passes {ref['passed']}/{ref['total']}")
        return "[sandbox check: " + "; ".join(parts) + "]"


def _runner(language: str):
    return run_python if language == "python" else run_javascript


def _tail(res) -> str:
    tail = (res.stderr or res.stdout or "").strip().splitlines()[-3:]
    return (f"{res.status}: " + " | ".join(tail))[:400] if tail else res.status


async def run_validator(code: str, language: str, limits: Limits) -> list[dict[str, Any]]:
    """The cases a validator prints, run alone in the sandbox (no solution beside it)."""
    res = await _runner(language)(code, timeout_s=limits.timeout_s, memory_mb=limits.memory_mb,
                                  max_output_bytes=MAX_OUTPUT_BYTES)
    try:
        return parse_cases(res.stdout)
    except FormatError as exc:
        raise FormatError(f"{exc} ({_tail(res)})" if res.status != "ok" else str(exc)) from None


def per_case_s(cases: list[dict[str, Any]], limits: Limits) -> float:
    """Each case gets a share of the run's time, so a hang on one keeps the credit for the others."""
    return round(max(0.2, limits.timeout_s / (len(cases) + 2)), 3)


async def run_solution(cases: list[dict[str, Any]], function_name: str, solution_code: str, language: str,
                       limits: Limits) -> dict[str, Any]:
    """One solution on one validator's cases, in its own sandboxed process: status, report, error tail."""
    budget = per_case_s(cases, limits)
    res = await _runner(language)(DRIVER[language], stdin=driver_job(function_name, cases, budget),
                                  files={SOLUTION_FILE[language]: solution_code}, timeout_s=limits.timeout_s,
                                  memory_mb=limits.memory_mb, max_output_bytes=MAX_OUTPUT_BYTES)
    answers, load_error = read_outputs(res.stdout, len(cases))
    report = score(cases, answers, load_error, budget, res.duration_s)
    error = "" if res.status == "ok" else _tail(res)
    return {"status": res.status, "report": report.to_dict(), "error": error, "duration_s": res.duration_s}


async def check_validator(draft: ValidatorDraft, challenge: Challenge, limits: Limits) -> Validator:
    """Sandbox check of a drafted validator: the kept Validator, or FormatError with the reason."""
    lang, fn = challenge.language, challenge.function_name
    cases = await run_validator(draft.code, lang, limits)
    stub = await run_solution(cases, fn, stub_solution(fn, lang), lang, limits)
    if stub["report"]["passed"] == stub["report"]["total"]:
        raise FormatError("the validator passes a do-nothing solution that raises on every call, so it checks "
                          "nothing (give normal cases with expected values)")
    check: dict[str, Any] = {"cases": len(cases), "stub": stub["report"]}
    reference, source = trusted_reference(challenge), "builtin"
    if reference is None:
        reference, source = draft.reference, "author"
    if reference:
        ref = (await run_solution(cases, fn, reference, lang, limits))["report"]
        if ref["pass_rate"] <= stub["report"]["pass_rate"]:
            raise FormatError(f"the validator's cases do not tell a correct solution from a do-nothing one "
                              f"(the {'reference' if source == 'author' else 'correct'} solution passes "
                              f"{ref['passed']}/{ref['total']}, the stub {stub['report']['passed']}/"
                              f"{stub['report']['total']}): check the expected values")
        check["reference"] = ref
        check["reference_source"] = source
    return Validator("", None, draft.code, cases, draft.reference, "", check)


def trusted_reference(challenge: Challenge) -> str | None:
    b = challenge.builtin
    if b is None:
        return None
    return b.reference_py if challenge.language == "python" else b.reference_js


def builtin_validator(challenge: Challenge) -> Validator:
    """A built-in challenge's own cases, as a validator."""
    b = challenge.builtin
    assert b is not None
    return Validator("builtin", None, "", [dict(c) for c in b.cases], trusted_reference(challenge), "",
                     {"source": "builtin", "cases": len(b.cases)})


def mean_pass_rate(runs: list[dict[str, Any]]) -> float:
    """The procedural score: mean pass rate over the validators used (every case counts)."""
    if not runs:
        return 0.0
    return sum(r["report"]["pass_rate"] if r["report"] else 0.0 for r in runs) / len(runs)


def held_out_rate(runs: list[dict[str, Any]]) -> float | None:
    """Mean pass rate on the held-out cases: the truth the referees are scored against."""
    rates = [r for r in (hidden_rate(run["report"]) for run in runs) if r is not None]
    return sum(rates) / len(rates) if rates else None


def report_line(runs: list[dict[str, Any]]) -> str:
    """Validator outcomes of one solution as a referee reads them above the code: the shown cases only."""
    parts = []
    for r in runs:
        rep = r["report"]
        passed, total = shown(rep)
        s = f"{r['validator']}: passed {passed}/{total}"
        fails = rep.get("failures")
        if isinstance(fails, list) and fails:
            s += f"; first failure: {str(fails[0])[:120]}"
        if rep.get("import_error"):
            s += f"; import error: {str(rep['import_error'])[:120]}"
        parts.append(s)  # no run status: a hang on a held-out case would show through it
    return "[validator results on the shown cases: " + " | ".join(parts) + "]" if parts else "[no validator results]"
