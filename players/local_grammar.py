"""The GBNF grammars that enforce a Constraint on a llama.cpp model, the same text for the
in-process path (players/local.py) and llama-server (players/llama_server.py)."""
from __future__ import annotations

import functools
from typing import Any

from arena.records import Constraint
from players.base import FATAL, BackendError


def gbnf_literal(text: str) -> str:
    """A GBNF string literal matching exactly `text`. llama-cpp-python's own literal formatter
    leaves backslashes alone, so a choice such as a\\b would read as an escape."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02X}")
        else:
            out.append(ch)  # GBNF literals are UTF-8: other characters stand for themselves
    return '"' + "".join(out) + '"'


# JSON strings may not hold raw control characters (json.loads refuses them), but the converter's
# string rule lets any non-quote character through, so a model writing code would put raw newlines in.
_LOOSE_CHAR = 'char ::= [^"\\\\]'
_JSON_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F]'


@functools.lru_cache(maxsize=256)
def grammar_for(constraint: Constraint) -> Any:
    """The llama.cpp grammar that enforces a constraint, kept per constraint."""
    from llama_cpp import LlamaGrammar
    return LlamaGrammar.from_string(gbnf_for(constraint), verbose=False)


@functools.lru_cache(maxsize=256)
def gbnf_for(constraint: Constraint) -> str:
    """The GBNF text of a constraint, for both paths (in-process and llama-server), kept per
    constraint (a JSON schema's conversion to GBNF is Python work worth doing once)."""
    if constraint.choices:
        return "root ::= " + " | ".join(gbnf_literal(c) for c in constraint.choices)
    import json

    from llama_cpp.llama_grammar import json_schema_to_gbnf
    try:
        # The schema text has its keys sorted (Constraint.json_schema), so the properties' own order
        # is lost; a "required" list keeps the order the family wrote, which is the order a model
        # should write them in (a function's name before the examples that call it).
        gbnf = json_schema_to_gbnf(constraint.schema or "", prop_order=_required_order(json.loads(constraint.schema or "")))
    except Exception as exc:  # noqa: BLE001 - the converter raises bare exceptions for unsupported schemas
        raise BackendError(f"local model cannot enforce this JSON schema: {exc}", FATAL) from None
    return gbnf.replace(_LOOSE_CHAR, _JSON_CHAR)


def _required_order(schema: Any) -> list[str]:
    """Property names in the order of the schema's "required" lists, outer objects first."""
    order: list[str] = []
    todo = [schema]
    while todo:
        node = todo.pop(0)
        if isinstance(node, dict):
            order += [n for n in node.get("required") or [] if isinstance(n, str) and n not in order]
            todo += list(node.values())
        elif isinstance(node, list):
            todo += node
    return order
