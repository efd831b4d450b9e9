"""How the store spells what it keeps as JSON text: json's own spelling (NaN, Infinity, integers
of any size), reached fast where orjson writes the same bytes."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

import orjson

from arena.records import to_jsonable


def dumps(obj: Any) -> str:
    # json's C encoder walks plain lists/dicts; only dataclasses need converting. Anything it
    # refuses (e.g. non-string dict keys) takes the general path.
    try:
        return _ENCODER.encode(obj)
    except (TypeError, ValueError):
        return json.dumps(to_jsonable(obj), ensure_ascii=False, separators=(",", ":"))


def messages_json(messages: Any) -> str:
    """A call's conversation (plain strings: what orjson writes byte for byte as json does, ~7x
    faster; it is the bulk of what a match stores). Anything else takes dumps."""
    try:
        return orjson.dumps(messages).decode()
    except TypeError:  # orjson.JSONEncodeError too: e.g. a lone surrogate, a non-string key
        return dumps(messages)


def plain(obj: Any) -> str:
    """JSON of a match's own data (its transcript, details, seats): orjson writes the values json
    writes, ~8x faster, but NaN and infinities as null, so any output holding a null takes dumps."""
    try:
        out = orjson.dumps(obj)
    except TypeError:  # e.g. a set, an integer past 64 bits, a non-string key, a lone surrogate
        return dumps(obj)
    return dumps(obj) if b"null" in out else out.decode()


def _shallow(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_shallow)
