"""`arena show`: one match in full."""
from __future__ import annotations

import argparse

from arena.cli.common import open_store, run_dir_argument
from arena.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="one match in full: seats, moves, calls, verdicts, outcome")
    p.add_argument("match_id", help="a match id or an unambiguous prefix of one")
    run_dir_argument(p)
    p.set_defaults(func=cmd_show)


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args.run_dir)
    mid = store.resolve_match_id(args.match_id)
    if mid is None:
        raise UserError(f"no single match with id {args.match_id!r} in {args.run_dir}")
    m = store.match(mid)
    print(f"match {m['id']}  family {m['family']}  round {m['round']}  status {m['status']}")
    print(f"seats: {', '.join(f'{i}: {v}' for i, v in enumerate(m['seats']))}")
    print(f"result: {m['error'] or m['summary']}")
    for f in m["format_failures"]:
        print(f"  format failure: {f['variant']} (seat {f['seat']}, {f['role']}): {f['kind']} - {f['detail']}")
    details = m.get("details") or {}
    if details.get("pgn"):
        print("\n" + details["pgn"])
    print(f"\ncalls ({len(m['calls'])}):")
    for i, c in enumerate(m["calls"], 1):
        prompt = c["messages"][-1]["content"] if c["messages"] else ""
        answer = c["response"] if c["error"] is None else f"ERROR {c['error']}"
        flags = (", cached" if c["cached"] else "") + (f", {c['retries']} retries" if c["retries"] else "")
        print(f"--- {i}. {c['variant']} as {c['role']} ({c['output_tokens']} tokens, "
              f"{c['latency_s'] or 0:.2f}s{flags})")
        print(_indent("> " + prompt.replace("\n", "\n> ")))
        print(_indent(str(answer)))
    for rs in m["ranked_sets"]:
        print(f"\nranking: {rs['role']} / {rs['criterion']}"
              + (f" (agreement {rs['agreement']:.2f})" if rs.get("agreement") is not None else ""))
        for e in sorted(rs["entries"], key=lambda e: e["rank"]):
            score = f" score {e['score']:.3g}" if isinstance(e.get("score"), (int, float)) else ""
            print(f"  {e['rank'] + 1}. {e['variant']}{score}: {str(e['text'])[:100]!r}")
    return 0


def _indent(text: str, n: int = 4) -> str:
    return "\n".join(" " * n + line for line in text.splitlines() or [""])
