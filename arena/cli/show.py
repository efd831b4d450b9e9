"""`arena show`: one match in full."""
from __future__ import annotations

import argparse

from arena.cli.common import open_store, printable, run_dir_argument
from arena.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="one match in full: seats, moves, calls, verdicts, outcome")
    p.add_argument("match_id", help="a match id or an unambiguous prefix of one")
    run_dir_argument(p)
    p.set_defaults(func=cmd_show)


MAX_ID_CHARS = 128  # match ids are far shorter; a longer "prefix" matches nothing (and SQLite's LIKE refuses it)


def _out(line: str) -> None:
    """Every line shown holds stored model text or provider errors: control characters are shown, never sent."""
    print(printable(line))


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args.run_dir)
    prefix = args.match_id
    mid = store.resolve_match_id(prefix) if 0 < len(prefix) <= MAX_ID_CHARS else None
    if mid is None:
        shown = printable(prefix[:40]) + ("..." if len(prefix) > 40 else "")
        raise UserError(f"no single match with id '{shown}' in {args.run_dir}")
    m = store.match(mid)
    _out(f"match {m['id']}  family {m['family']}  round {m['round']}  status {m['status']}")
    _out(f"seats: {', '.join(f'{i}: {v}' for i, v in enumerate(m['seats']))}")
    _out(f"result: {m['error'] or m['summary']}")
    for f in m["format_failures"]:
        _out(f"  format failure: {f['variant']} (seat {f['seat']}, {f['role']}): {f['kind']} - {f['detail']}")
    details = m.get("details") or {}
    if details.get("pgn"):
        _out("\n" + details["pgn"])
    _out(f"\ncalls ({len(m['calls'])}):")
    for i, c in enumerate(m["calls"], 1):
        prompt = c["messages"][-1]["content"] if c["messages"] else ""
        answer = c["response"] if c["error"] is None else f"ERROR {c['error']}"
        flags = (", cached" if c["cached"] else "") + (f", {c['retries']} retries" if c["retries"] else "")
        _out(f"--- {i}. {c['variant']} as {c['role']} ({c['output_tokens']} tokens, "
              f"{c['latency_s'] or 0:.2f}s{flags})")
        _out(_indent("> " + prompt.replace("\n", "\n> ")))
        _out(_indent(str(answer)))
    for rs in m["ranked_sets"]:
        _out(f"\nranking: {rs['role']} / {rs['criterion']}"
              + (f" (agreement {rs['agreement']:.2f})" if rs.get("agreement") is not None else ""))
        for e in sorted(rs["entries"], key=lambda e: e["rank"]):
            score = f" score {e['score']:.3g}" if isinstance(e.get("score"), (int, float)) else ""
            _out(f"  {e['rank'] + 1}. {e['variant']}{score}: {str(e['text'])[:100]!r}")
    return 0


def _indent(text: str, n: int = 4) -> str:
    return "\n".join(" " * n + line for line in text.splitlines() or [""])
