"""Validators: test harnesses that import a solution, call it and print one summary line.

The contract every validator keeps (author-written or generated here for the built-in
challenges) is one line on stdout, the last one starting with RESULT:

    RESULT {"passed": 5, "failed": 1, "total": 6, "edge_passed": 1, "edge_total": 2, "time_s": 0.01}

The solution sits next to the validator in the sandbox's scratch folder as solution.py
(Python) or solution.js (JavaScript). Everything model-written runs only in the sandbox
(referees/sandbox/); this module builds harness source and reads their output.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

LANGUAGES = ("python", "javascript")
SOLUTION_FILE = {"python": "solution.py", "javascript": "solution.js"}
VALIDATOR_FILE = {"python": "validator.py", "javascript": "validator.js"}

_RESULT_LINE = re.compile(r"^\s*RESULT\s*:?\s*(\{.*\})\s*$", re.M)


@dataclass
class ValidatorReport:
    """What one validator run said about one solution."""

    passed: int
    total: int
    extras: dict[str, Any] = field(default_factory=dict)  # edge_passed, edge_total, time_s, failures...

    @property
    def failed(self) -> int:
        return self.total - self.passed

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed, "total": self.total,
                "pass_rate": round(self.pass_rate, 4), **self.extras}


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value >= 0 else None


def result_lines(stdout: str) -> list[str]:
    return [m.group(1) for m in _RESULT_LINE.finditer(stdout[-200_000:])] if isinstance(stdout, str) else []


def parse_result(stdout: str) -> ValidatorReport | None:
    """The one well-formed RESULT line of a validator's stdout, or None.

    passed/total must be non-negative integers with passed <= total and total >= 1 (a
    validator that checks nothing says nothing); "failed", when given, must agree. More
    than one RESULT line is no result: the solution shares the validator's process and
    stdout, so a second line is most likely a forged verdict.
    """
    lines = result_lines(stdout)
    if len(lines) != 1:
        return None
    try:
        obj = json.loads(lines[0])
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    passed, total = _count(obj.get("passed")), _count(obj.get("total"))
    failed = _count(obj.get("failed")) if "failed" in obj else None
    if total is None and passed is not None and failed is not None:
        total = passed + failed
    if passed is None or not total or passed > total or (failed is not None and passed + failed != total):
        return None
    extras = {k: v for k, v in obj.items() if k not in ("passed", "failed", "total", "pass_rate") and len(k) <= 40}
    if len(json.dumps(extras, default=str)) > 4000:  # quality measures, not a data dump
        extras = {"note": "extra measures too large, dropped"}
    return ValidatorReport(passed, total, extras)


# -- generated harnesses for language-neutral cases ------------------------------------------------------
_PY_HARNESS = '''\
import contextlib, copy, io, json, math, os, signal, sys, time
sys.path.insert(0, os.getcwd())
NAME = {name!r}
CASES = json.loads({cases!r})
PER_CASE_S = {per_case_s!r}
OUT = sys.stdout


class CaseTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CaseTimeout("case took longer than %ss" % PER_CASE_S)


def same(got, want):
    if isinstance(want, bool) or want is None:
        return got is want or (isinstance(got, bool) and got == want)
    if isinstance(want, (int, float)):
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return False
        return math.isfinite(got) and abs(got - want) <= 1e-6 + 1e-9 * abs(want)
    if isinstance(want, str):
        return isinstance(got, str) and got == want
    if isinstance(want, list):
        return isinstance(got, (list, tuple)) and len(got) == len(want) and all(map(same, got, want))
    if isinstance(want, dict):
        return (isinstance(got, dict) and set(map(str, got)) == set(want)
                and all(same(got[k] if k in got else got.get(int(k)) if k.isdigit() else None, v)
                        for k, v in want.items()))
    return got == want


def report(result):
    OUT.write("RESULT " + json.dumps(result) + "\\n")
    OUT.flush()


result = {{"passed": 0, "failed": 0, "total": len(CASES), "edge_passed": 0,
          "edge_total": sum(1 for c in CASES if c.get("edge")), "errors": 0, "time_s": 0.0, "failures": []}}
try:
    with contextlib.redirect_stdout(io.StringIO()):
        import solution
    fn = getattr(solution, NAME)
    if not callable(fn):
        raise TypeError(NAME + " is not a function")
except BaseException as exc:
    result["failed"] = result["total"]
    result["import_error"] = ("%s: %s" % (type(exc).__name__, exc))[:300]
    report(result)
    sys.exit(0)
use_alarm = hasattr(signal, "setitimer")
if use_alarm:
    signal.signal(signal.SIGALRM, _alarm)
for number, case in enumerate(CASES):
    ok, note = False, ""
    started = time.perf_counter()
    try:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, PER_CASE_S)
        with contextlib.redirect_stdout(io.StringIO()):
            got = fn(*copy.deepcopy(case["args"]))
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if case.get("raises"):
            note = "expected an error, got %r" % (got,)
        else:
            ok = same(got, case["expected"])
            note = "" if ok else "expected %r, got %r" % (case["expected"], got)
    except BaseException as exc:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
        ok = bool(case.get("raises")) and isinstance(exc, Exception) and not isinstance(exc, CaseTimeout)
        if not ok:
            result["errors"] += 1
            note = "%s: %s" % (type(exc).__name__, exc)
    result["time_s"] += time.perf_counter() - started
    if ok:
        result["passed"] += 1
        result["edge_passed"] += 1 if case.get("edge") else 0
    else:
        result["failed"] += 1
        if len(result["failures"]) < 4:
            result["failures"].append(("case %d: %s" % (number + 1, note))[:200])
result["time_s"] = round(result["time_s"], 6)
report(result)
'''

_JS_HARNESS = '''\
'use strict';
const fs = require('fs'), path = require('path'), vm = require('vm');
const NAME = {name};
const CASES = {cases};
const OUT = process.stdout.write.bind(process.stdout);
const here = typeof __dirname === 'string' ? __dirname : process.cwd();

function same(got, want) {{
  if (want === null || typeof want === 'boolean') return got === want;
  if (typeof want === 'number') return typeof got === 'number' && Number.isFinite(got) &&
    Math.abs(got - want) <= 1e-6 + 1e-9 * Math.abs(want);
  if (typeof want === 'string') return got === want;
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length &&
    want.every((w, i) => same(got[i], w));
  if (typeof want === 'object') return got !== null && typeof got === 'object' && !Array.isArray(got) &&
    Object.keys(got).length === Object.keys(want).length && Object.keys(want).every(k => same(got[k], want[k]));
  return got === want;
}}

function load() {{
  const file = path.join(here, 'solution.js');
  let mod = null, err = null;
  try {{ mod = require(file); }} catch (e) {{ err = e; }}
  if (mod && typeof mod[NAME] === 'function') return mod[NAME];
  if (typeof mod === 'function') return mod;
  try {{ vm.runInThisContext(fs.readFileSync(file, 'utf8')); }} catch (e) {{ err = err || e; }}
  if (typeof globalThis[NAME] === 'function') return globalThis[NAME];
  throw err || new Error(NAME + ' is not defined or exported');
}}

const result = {{passed: 0, failed: 0, total: CASES.length, edge_passed: 0,
  edge_total: CASES.filter(c => c.edge).length, errors: 0, time_s: 0, failures: []}};
const quiet = () => {{ const saved = console.log; console.log = () => {{}}; return () => {{ console.log = saved; }}; }};
let fn;
let restore = quiet();
try {{ fn = load(); }} catch (e) {{
  restore();
  result.failed = result.total;
  result.import_error = String(e && e.message || e).slice(0, 300);
  OUT('RESULT ' + JSON.stringify(result) + '\\n');
  process.exit(0);
}}
restore();
CASES.forEach((c, n) => {{
  let ok = false, note = '';
  const started = process.hrtime.bigint();
  restore = quiet();
  try {{
    const got = fn(...JSON.parse(JSON.stringify(c.args)));
    if (c.raises) note = 'expected an error, got ' + JSON.stringify(got);
    else {{ ok = same(got, c.expected); if (!ok) note = 'expected ' + JSON.stringify(c.expected) + ', got ' + JSON.stringify(got); }}
  }} catch (e) {{
    ok = !!c.raises;
    if (!ok) {{ result.errors += 1; note = String(e && e.message || e); }}
  }}
  restore();
  result.time_s += Number(process.hrtime.bigint() - started) / 1e9;
  if (ok) {{ result.passed += 1; if (c.edge) result.edge_passed += 1; }}
  else {{ result.failed += 1; if (result.failures.length < 4) result.failures.push(('case ' + (n + 1) + ': ' + note).slice(0, 200)); }}
}});
result.time_s = Math.round(result.time_s * 1e6) / 1e6;
OUT('RESULT ' + JSON.stringify(result) + '\\n');
'''


def harness(function_name: str, cases: list[dict[str, Any]] | tuple[dict[str, Any], ...], language: str,
            per_case_s: float = 2.0) -> str:
    """A validator for language-neutral cases ({"args": [...], "expected": ..., "edge": bool, "raises": bool})."""
    blob = json.dumps(list(cases), separators=(",", ":"))
    if language == "python":
        return _PY_HARNESS.format(name=function_name, cases=blob, per_case_s=float(per_case_s))
    if language == "javascript":
        return _JS_HARNESS.format(name=json.dumps(function_name), cases=blob)
    raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
