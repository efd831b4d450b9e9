"""The sandbox side of a programming verdict: the drivers that call a solution, and reading what
they and the validators print.

Nothing here decides a verdict. Two kinds of sandboxed process exist, never one for both:

- a validator (author-written, or the cases of a built-in challenge) runs alone and prints its
  test cases, one line:

      CASES [{"args": [10, 100], "expected": 0.9}, {"args": [-1, 100], "raises": true, "edge": true}]

- a solution runs in its own process beside a small driver (main.py / main.js) that reads the
  call arguments as JSON on stdin and writes what each call returned (or raised) as JSON lines
  on stdout. That process never holds an expected value and prints no verdict: the comparison
  is engine-side (tournaments/families/programming/verdict.py), so whatever the solution does
  to its own process (patch print or JSON.stringify, exit early, walk the stack) only changes
  its own answers.
"""
from __future__ import annotations

import json
import re
from typing import Any

from tournaments.kit.extract import FormatError

LANGUAGES = ("python", "javascript")
SOLUTION_FILE = {"python": "solution.py", "javascript": "solution.js"}
MAX_CASES = 60
MAX_CASES_CHARS = 100_000  # the arguments and expected values of all cases, as JSON
MAX_LINE_CHARS = 100_000  # one returned value, as JSON
_CASES_LINE = re.compile(r"^[ \t]*CASES[ \t]*:?[ \t]*(\[.*\])[ \t\r]*$", re.MULTILINE)  # [ \t], not \s: linear time
_OUTPUT_LINE = re.compile(r"^@@ (\d+|load) (.*)$", re.MULTILINE)

# Each driver line starts on a fresh line, so a solution writing a partial line to the real
# stdout cannot glue itself to the next answer.
PY_DRIVER = '''\
import contextlib, io, json, os, signal, sys
sys.path.insert(0, os.getcwd())
OUT = os.fdopen(os.dup(1), "w")
JOB = json.load(sys.stdin)


class CaseTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise CaseTimeout()


def say(key, obj):
    try:
        text = json.dumps(obj)
    except (TypeError, ValueError, RecursionError) as exc:
        text = json.dumps({"crash": ("return value is not JSON: %s" % exc)[:300]})
    OUT.write("\\n@@ %s %s\\n" % (key, text))
    OUT.flush()


sink = io.StringIO()  # the solution's own prints: not part of its answers
try:
    with contextlib.redirect_stdout(sink):
        import solution
    fn = getattr(solution, JOB["name"])
    if not callable(fn):
        raise TypeError(JOB["name"] + " is not a function")
except BaseException as exc:
    say("load", {"error": ("%s: %s" % (type(exc).__name__, exc))[:300]})
    sys.exit(0)
use_alarm = hasattr(signal, "setitimer")
if use_alarm:
    signal.signal(signal.SIGALRM, _alarm)
for number, args in enumerate(JOB["calls"]):
    try:
        try:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, JOB["per_case_s"])
            with contextlib.redirect_stdout(sink):
                got = fn(*args)
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
        answer = {"ok": got}
    except CaseTimeout:
        answer = {"timeout": True}
    except Exception as exc:
        answer = {"raised": ("%s: %s" % (type(exc).__name__, exc))[:200]}
    except BaseException as exc:
        answer = {"crash": ("%s: %s" % (type(exc).__name__, exc))[:200]}
    sink.seek(0)
    sink.truncate()
    say(number, answer)
'''

JS_DRIVER = '''\
'use strict';
const fs = require('fs'), path = require('path'), vm = require('vm');
const JOB = JSON.parse(fs.readFileSync(0, 'utf8'));
const write = fs.writeSync, stringify = JSON.stringify;
const here = typeof __dirname === 'string' ? __dirname : process.cwd();
function say(key, obj) {
  let text;
  try { text = stringify(obj); } catch (e) { text = stringify({crash: ('return value is not JSON: ' + e).slice(0, 300)}); }
  write(1, '\\n@@ ' + key + ' ' + text + '\\n');
}
const mute = () => true;  // the solution's own prints: not part of its answers
console.log = console.info = console.warn = console.error = console.debug = mute;
process.stdout.write = mute;
function load() {
  const file = path.join(here, 'solution.js');
  let mod = null, err = null;
  try { mod = require(file); } catch (e) { err = e; }
  if (mod && typeof mod[JOB.name] === 'function') return mod[JOB.name];
  if (typeof mod === 'function') return mod;
  try { vm.runInThisContext(fs.readFileSync(file, 'utf8')); } catch (e) { err = err || e; }
  if (typeof globalThis[JOB.name] === 'function') return globalThis[JOB.name];
  throw err || new Error(JOB.name + ' is not defined or exported');
}
let fn;
try { fn = load(); } catch (e) {
  say('load', {error: String(e && e.message || e).slice(0, 300)});
  process.exit(0);
}
const timeout = Math.max(1, Math.round(JOB.per_case_s * 1000));
JOB.calls.forEach((args, n) => {
  let answer;
  try {
    globalThis.__arena_call = () => fn(...args);
    const got = vm.runInThisContext('__arena_call()', {timeout});  // a per-call time limit on sync code
    answer = {ok: got === undefined ? null : got};
  } catch (e) {
    if (e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') answer = {timeout: true};
    else answer = {raised: String(e && e.message || e).slice(0, 200)};
  }
  say(n, answer);
});
'''

DRIVER = {"python": PY_DRIVER, "javascript": JS_DRIVER}


def driver_job(function_name: str, cases: list[dict[str, Any]], per_case_s: float) -> str:
    """The driver's stdin: the function to call and the arguments of every case, nothing else."""
    return json.dumps({"name": function_name, "calls": [c["args"] for c in cases], "per_case_s": per_case_s})


def _loads(text: str) -> Any:
    if len(text) > MAX_LINE_CHARS:
        raise ValueError("too long")
    return json.loads(text)


def read_outputs(stdout: str, n: int) -> tuple[list[dict[str, Any] | None], str | None]:
    """The driver's answer to each of the n calls (None: no readable answer) and its load error.

    Every line comes from the solution's process, so it is only ever the solution's own claim
    about what it returned; the first line for a call counts.
    """
    answers: list[dict[str, Any] | None] = [None] * n
    load_error = None
    for m in _OUTPUT_LINE.finditer(stdout if isinstance(stdout, str) else ""):
        key, raw = m.group(1), m.group(2)
        try:
            obj = _loads(raw)
        except (ValueError, RecursionError):
            obj = None
        if key == "load":
            if load_error is None:
                load_error = str(obj.get("error", "")) if isinstance(obj, dict) else "could not load the solution"
            continue
        i = int(key)
        if i < n and answers[i] is None and isinstance(obj, dict):
            answers[i] = obj
    return answers, load_error


def parse_cases(stdout: str) -> list[dict[str, Any]]:
    """The validator's test cases from its one CASES line; FormatError with the reason otherwise."""
    lines = _CASES_LINE.findall(stdout[-400_000:] if isinstance(stdout, str) else "")
    if not lines:
        raise FormatError("the validator printed no line starting with CASES followed by a JSON list of cases")
    if len(lines) > 1:
        raise FormatError("the validator printed more than one CASES line (print all the cases in one line)")
    if len(lines[0]) > MAX_CASES_CHARS:
        raise FormatError(f"the cases are too large (limit {MAX_CASES_CHARS} characters of JSON)")
    try:
        raw = json.loads(lines[0])
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"the CASES line is not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(raw, list) or not raw:
        raise FormatError("CASES must be a non-empty JSON list")
    if len(raw) > MAX_CASES:
        raise FormatError(f"too many cases ({len(raw)}; at most {MAX_CASES})")
    cases = []
    for k, c in enumerate(raw, 1):
        if not isinstance(c, dict) or not isinstance(c.get("args"), list):
            raise FormatError(f"case {k} must be an object whose \"args\" is the list of arguments")
        raises = c.get("raises") is True
        if not raises and "expected" not in c:
            raise FormatError(f"case {k} has neither \"expected\" nor \"raises\": true")
        case = {"args": c["args"], "edge": c.get("edge") is True}
        case.update({"raises": True} if raises else {"expected": c["expected"]})
        cases.append(case)
    return cases
