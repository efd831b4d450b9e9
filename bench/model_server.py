"""A model server for the benchmarks: tests/support/fault_server.py in its own process, so the
server's work does not share the measured process's interpreter.

    with model_server(latency_s=0.1) as url:     # OpenAI base_url, e.g. http://127.0.0.1:PORT/v1
        ...

With `game=True` the server plays Connect Four as a random legal mover for both engines'
prompts: the arena's lists "Legal columns: ..."; TextArena's shows the board, whose full
columns it reads. Moves are drawn from a seeded generator, so runs repeat.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from bench.common import REPO, Unavailable

_ARENA_LEGAL = re.compile(r"Legal columns:\s*([\d ]+)\s*$")
_rng = random.Random(0)


def _last_user(body: dict[str, Any]) -> str:
    users = [m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"]
    return str(users[-1]) if users else ""


def connect_four_reply(body: dict[str, Any]) -> str:
    text = _last_user(body)
    found = _ARENA_LEGAL.search(text)
    if found:  # the arena's prompt
        return _rng.choice(found.group(1).split())
    # TextArena's observation: the last "Board state:" block; a column is open while its top cell is '.'
    block = text.rsplit("Board state:", 1)[-1].strip().splitlines()
    rows = [ln.split() for ln in block[2:] if ln.strip()]
    legal = [c for c, cell in enumerate(rows[0]) if cell == "."] if rows else list(range(7))
    return f"[col {_rng.choice(legal or [0])}]"


@contextlib.contextmanager
def model_server(latency_s: float, game: bool = False) -> Iterator[str]:
    args = [sys.executable, "-m", "bench.model_server", "--latency", str(latency_s)] + (["--game"] if game else [])
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PYTHONPATH": str(REPO), **__import__("os").environ})
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("http"):
            err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
            raise Unavailable(f"model server did not start: {(err.strip().splitlines() or ['no output'])[-1]}")
        yield line.strip()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    from tests.support.fault_server import FaultServer
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--game", action="store_true")
    args = ap.parse_args()
    server = FaultServer(text="ok", reply=connect_four_reply if args.game else None, latency_s=args.latency,
                         keep_headers=1)

    async def serve() -> None:
        async with server:
            print(server.openai_url, flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
