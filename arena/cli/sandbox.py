"""`arena sandbox`: run one Python file in the sandbox and print its verdict."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from arena.cli.common import finite_float
from arena.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sandbox", help="run one Python file in the sandbox and print its verdict as JSON")
    p.add_argument("file")
    p.add_argument("--timeout", type=finite_float, default=10.0, help="wall-clock seconds (default 10)")
    p.add_argument("--memory", type=int, default=256, help="memory limit in MB (default 256)")
    p.set_defaults(func=cmd_sandbox)


def cmd_sandbox(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"file not found: {path}")
    if args.timeout <= 0 or args.memory <= 0:
        raise UserError("--timeout and --memory must be positive")
    try:
        code = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text") from None
    from referees.sandbox import run_python_sync
    result = run_python_sync(code, timeout_s=args.timeout, memory_mb=args.memory)
    print(json.dumps(result.to_dict(), ensure_ascii=False))
    return 0 if result.status == "ok" else 1
