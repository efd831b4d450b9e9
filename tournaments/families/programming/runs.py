"""Running validators and solutions in the sandbox (the only place model-written code runs).

A validator is kept only if, run against a do-nothing stub, it prints a RESULT line and
does not pass the stub on every check; and, when a reference solution exists (the
author's own, or the built-in one), it also reports on the reference and passes it on
more checks than the stub. Anything else is a FormatError with a reason for the re-ask.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from referees.sandbox import run_javascript, run_python
from tournaments.families.programming.harness import SOLUTION_FILE, harness, parse_result, result_lines
from tournaments.families.programming.prompts import Challenge, ValidatorDraft, stub_solution
from tournaments.kit.extract import FormatError


@dataclass
class Limits:
    timeout_s: float = 5.0
    memory_mb: int = 256


@dataclass
class Validator:
    label: str  # "builtin" or "V1", "V2", ... in author order
    author: str | None
    code: str
    reference: str | None = None
    text: str = ""  # the author's answer, as ranked
    check: dict[str, Any] = field(default_factory=dict)  # stub / reference reports from the sandbox check

    def summary(self) -> str:
        stub, ref = self.check.get("stub"), self.check.get("reference")
        parts = [f"do-nothing stub passes {stub['passed']}/{stub['total']}" if stub else "stub: no report"]
        if ref:
            parts.append(f"reference solution passes {ref['passed']}/{ref['total']}")
        return "[sandbox check: " + "; ".join(parts) + "]"


async def run_one(validator_code: str, solution_code: str, language: str, limits: Limits) -> dict[str, Any]:
    """One validator against one solution: status, parsed report (or None), error tail."""
    files = {SOLUTION_FILE[language]: solution_code}
    runner = run_python if language == "python" else run_javascript
    res = await runner(validator_code, files=files, timeout_s=limits.timeout_s, memory_mb=limits.memory_mb,
                       max_output_bytes=200_000)
    report = parse_result(res.stdout)
    error = ""
    if report is None and len(result_lines(res.stdout)) > 1:
        error = "several RESULT lines: the verdict is ambiguous (forged by the solution?)"
    elif report is None:
        tail = (res.stderr or res.stdout or "").strip().splitlines()[-3:]
        error = (f"{res.status}: " + " | ".join(tail))[:400] if tail else res.status
    return {"status": res.status, "report": report.to_dict() if report else None, "error": error,
            "duration_s": res.duration_s}


async def check_validator(draft: ValidatorDraft, challenge: Challenge, limits: Limits) -> dict[str, Any]:
    """Sandbox check of a drafted validator; returns the check record or raises FormatError."""
    lang, fn = challenge.language, challenge.function_name
    stub = await run_one(draft.code, stub_solution(fn, lang), lang, limits)
    if stub["report"] is None:
        raise FormatError("run against a stub solution, the validator printed no RESULT line "
                          f"({stub['error'] or 'no output'})")
    if stub["report"]["passed"] == stub["report"]["total"]:
        raise FormatError("the validator passes a do-nothing solution that raises on every call, so it checks "
                          "nothing")
    check: dict[str, Any] = {"stub": stub["report"]}
    reference, source = trusted_reference(challenge), "builtin"
    if reference is None:
        reference, source = draft.reference, "author"
    if reference:
        ref = await run_one(draft.code, reference, lang, limits)
        if ref["report"] is None:
            raise FormatError(f"run against the {'reference' if source == 'author' else 'correct'} solution, the "
                              f"validator printed no RESULT line ({ref['error'] or 'no output'})")
        if ref["report"]["pass_rate"] <= stub["report"]["pass_rate"]:
            raise FormatError(f"the validator does not tell a correct solution from a do-nothing one (correct "
                              f"passes {ref['report']['passed']}/{ref['report']['total']}, stub passes "
                              f"{stub['report']['passed']}/{stub['report']['total']})")
        check["reference"] = ref["report"]
        check["reference_source"] = source
    return check


def trusted_reference(challenge: Challenge) -> str | None:
    b = challenge.builtin
    if b is None:
        return None
    return b.reference_py if challenge.language == "python" else b.reference_js


def builtin_validator(challenge: Challenge, limits: Limits) -> Validator:
    """The validator generated from a built-in challenge's cases. Each case gets a share of the
    run's time, so a solution that hangs on one case still gets credit for the others."""
    b = challenge.builtin
    assert b is not None
    per_case = max(0.2, limits.timeout_s / (len(b.cases) + 2))
    return Validator("builtin", None, harness(b.function_name, b.cases, challenge.language, per_case),
                     trusted_reference(challenge), "", {"source": "builtin"})


def mean_pass_rate(runs: list[dict[str, Any]]) -> float:
    """The procedural score: mean pass rate over the validators used (no report = 0)."""
    if not runs:
        return 0.0
    return sum(r["report"]["pass_rate"] if r["report"] else 0.0 for r in runs) / len(runs)


def report_line(runs: list[dict[str, Any]]) -> str:
    """Validator outcomes of one solution, as a referee reads them above the code."""
    parts = []
    for r in runs:
        rep = r["report"]
        if rep is None:
            parts.append(f"{r['validator']}: no result ({r['error'][:120]})")
            continue
        s = f"{r['validator']}: passed {rep['passed']}/{rep['total']}"
        if isinstance(rep.get("edge_total"), int) and rep["edge_total"]:
            s += f", edge cases {rep.get('edge_passed', '?')}/{rep['edge_total']}"
        fails = rep.get("failures")
        if isinstance(fails, list) and fails:
            s += f"; first failure: {str(fails[0])[:120]}"
        if rep.get("import_error"):
            s += f"; import error: {str(rep['import_error'])[:120]}"
        parts.append(s)
    return "[validator results: " + " | ".join(parts) + "]" if parts else "[no validator results]"
