"""The admission gate for predict-the-output programs (CRUXEval and Absolute Zero style).

A program is a task only if it has one real answer a model can work out by reading it. Static
checks first (cheap, and their reason tells the author exactly what to change), then two runs
in the sandbox (referees/sandbox/):

- the code is MIN_CODE_CHARS..MAX_CODE_CHARS characters (CRUXEval: 75-300; ours is wider at the
  bottom so one-expression tier-1 programs fit, and at the top for authors) and parses;
- imports only the standard library, and none of BANNED_MODULES (randomness, time, the process,
  the machine, the network, threads: outputs that are not a function of the code);
- calls none of BANNED_CALLS (__import__, eval, exec, open, ...: code whose behaviour is not
  on the page) and touches no interpreter internals (BANNED_NAMES);
- both runs end OK within RUN_TIMEOUT_S seconds and print the same, non-empty output;
- the output is at most MAX_OUTPUT_CHARS characters on MAX_OUTPUT_LINES lines (something one
  can predict) and, as in CRUXEval, prints no floating-point number (their last digits test
  the float format, not understanding).

Every rejection is a FormatError whose reason goes to the author's one re-ask and to the
FormatFailure.
"""
from __future__ import annotations

import ast
import asyncio
import re
import sys
from dataclasses import dataclass

from referees.sandbox import run_python
from tournaments.kit.extract import FormatError

MIN_CODE_CHARS = 30
MAX_CODE_CHARS = 600
RUN_TIMEOUT_S = 2.0
MAX_OUTPUT_CHARS = 200
MAX_OUTPUT_LINES = 8
BANNED_MODULES = frozenset({
    "random", "secrets", "uuid", "time", "datetime", "calendar", "zoneinfo", "os", "sys", "subprocess",
    "threading", "multiprocessing", "concurrent", "asyncio", "socket", "ssl", "select", "selectors",
    "signal", "shutil", "pathlib", "glob", "tempfile", "io", "importlib", "ctypes", "gc", "inspect",
    "resource", "platform", "getpass", "pickle", "marshal", "shelve", "urllib", "http", "ftplib",
    "smtplib", "email", "webbrowser", "sqlite3", "hashlib", "hmac", "zlib", "builtins", "faulthandler",
    "tracemalloc", "sched", "mmap", "pty", "tty", "fcntl", "pwd", "grp", "locale", "code", "codeop",
    "pdb", "site", "sysconfig", "runpy", "zipfile", "tarfile", "atexit", "weakref", "logging",
})
BANNED_CALLS = frozenset({"__import__", "eval", "exec", "compile", "open", "input", "breakpoint", "help",
                          "globals", "locals", "vars", "id", "hash", "memoryview", "exit", "quit"})
BANNED_NAMES = frozenset({"__builtins__", "__subclasses__", "__globals__", "__code__", "__loader__",
                          "__spec__", "__dict__", "__closure__", "__mro__", "__bases__"})
_NO_ALIAS = frozenset({"__import__", "eval", "exec", "compile", "open", "breakpoint", "globals", "locals", "vars"})
# A printed float: digits with a decimal point or an exponent, or inf/nan (not inside a word: "v1.2")
_FLOAT = re.compile(r"(?<![\w.])(?:\d+\.\d*|\.\d+|\d+[eE][+-]?\d+)(?![\w.])|\b(?:inf|nan)\b")


@dataclass
class Program:
    question: str
    code: str
    output: str
    author: str | None = None  # None: built-in or generated

    def shown(self) -> str:
        return f"Question: {self.question}\n\n```python\n{self.code.rstrip()}\n```"


def static_reason(code: str) -> str | None:
    """Why the code cannot be a task without running it, or None."""
    size = len(code.strip())
    if size < MIN_CODE_CHARS:
        return f"the program is too short ({size} characters; write {MIN_CODE_CHARS} to {MAX_CODE_CHARS})"
    if size > MAX_CODE_CHARS:
        return f"the program is too long ({size} characters; write {MIN_CODE_CHARS} to {MAX_CODE_CHARS})"
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        return f"the program is not valid Python ({type(exc).__name__}: {getattr(exc, 'msg', exc)})"
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or "."]
            for name in names:
                top = name.split(".")[0]
                if node.__class__ is ast.ImportFrom and node.level:
                    return "the program imports a local module: use the standard library only"
                if top in BANNED_MODULES:
                    return f"the program imports {top}, which is not allowed (its output must depend on the code only)"
                if top not in sys.stdlib_module_names:
                    return f"the program imports {top}: use the standard library only"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BANNED_CALLS:
            return f"the program calls {node.func.id}(), which is not allowed"
        elif isinstance(node, ast.Name) and node.id in BANNED_NAMES | _NO_ALIAS:  # f = eval; f(...)
            return f"the program uses {node.id}, which is not allowed"
        elif isinstance(node, ast.Attribute) and node.attr in BANNED_NAMES:
            return f"the program uses .{node.attr}, which is not allowed"
    if not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
               for n in ast.walk(tree)):
        return "the program prints nothing (it must print its answer)"
    return None


def output_reason(output: str, max_chars: int = MAX_OUTPUT_CHARS) -> str | None:
    """Why a (deterministic) printed output cannot be the answer of a task, or None."""
    if not output.strip():
        return "the program printed nothing"
    lines = output.rstrip("\n").count("\n") + 1
    if len(output) > max_chars or lines > MAX_OUTPUT_LINES:
        return (f"the output is too long to predict ({len(output)} characters on {lines} lines; at most "
                f"{max_chars} characters on {MAX_OUTPUT_LINES} lines)")
    if _FLOAT.search(output):
        return "the program prints a floating-point number: print whole numbers, strings or structures"
    return None


async def run_twice(question: str, code: str, *, timeout_s: float, memory_mb: int, max_output: int,
                    author: str | None, max_lines: int = 40) -> Program:
    """Run twice in the sandbox; keep it only if both runs end OK with the same non-empty output."""
    first, second = await asyncio.gather(*(run_python(code, timeout_s=timeout_s, memory_mb=memory_mb,
                                                      max_output_bytes=max_output * 4) for _ in range(2)))
    for res in (first, second):
        if res.status != "ok":
            tail = " | ".join((res.stderr or "").strip().splitlines()[-2:])[:300]
            raise FormatError(f"the program did not run cleanly ({res.status}{': ' + tail if tail else ''})")
    if first.stdout != second.stdout:
        raise FormatError("the program printed different output on two runs: it is not deterministic")
    if not first.stdout.strip():
        raise FormatError("the program printed nothing")
    if len(first.stdout) > max_output or first.stdout.count("\n") > max_lines:
        raise FormatError(f"the output is too long to predict (limit {max_output} characters, {max_lines} lines)")
    return Program(question, code, first.stdout, author)


async def admit(question: str, code: str, *, author: str | None, memory_mb: int = 256,
                timeout_s: float = RUN_TIMEOUT_S, max_output_chars: int = MAX_OUTPUT_CHARS) -> Program:
    """The program as a task (its real output found by the sandbox), or FormatError with the reason."""
    reason = static_reason(code)
    if reason:
        raise FormatError(reason)
    program = await run_twice(question, code, timeout_s=timeout_s, memory_mb=memory_mb,
                              max_output=max_output_chars * 4, author=author)
    reason = output_reason(program.output, max_output_chars)
    if reason:
        raise FormatError(reason)
    return program
