"""Reading structured answers out of model text: JSON objects and code blocks.

Model output is bad input. Everything here returns a value or raises FormatError with
a short reason that can be shown back to the model when it is re-asked; nothing else
escapes (deep nesting, huge answers and odd unicode included).
"""
from __future__ import annotations

import ast
import json
import re
from typing import Any

# Answers past this size are not read at all: a 135M model looping for 100k characters
# is not going to contain a better JSON object at the end, and scanning costs.
MAX_ANSWER_CHARS = 60_000
# A failed decode costs O(position) (the error message counts lines), so a wall of "{" would be
# quadratic: stop trying after this many misses.
MAX_DECODE_MISSES = 400

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+\-.]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")

PY_LANGS = {"", "python", "py", "python3", "py3"}
JS_LANGS = {"", "javascript", "js", "node", "nodejs", "ecmascript", "mjs", "cjs"}


class FormatError(ValueError):
    """The answer does not have the required shape; str(exc) is the reason, shown to the model."""


def _decode_at(text: str, start: int, decoder: json.JSONDecoder) -> tuple[Any, int] | None:
    try:
        return decoder.raw_decode(text, start)
    except (ValueError, RecursionError):
        return None


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every top-level JSON object in the text, in order (objects nested in a found one are skipped)."""
    if not isinstance(text, str) or len(text) > MAX_ANSWER_CHARS:
        return []
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    misses = 0
    pos = text.find("{")
    while pos != -1 and misses < MAX_DECODE_MISSES:
        hit = _decode_at(text, pos, decoder)
        if hit is not None and isinstance(hit[0], dict):
            found.append(hit[0])
            pos = text.find("{", hit[1])
        else:
            misses += 1
            pos = text.find("{", pos + 1)
    return found


def _repaired(block: str) -> dict[str, Any] | None:
    """Near-JSON a model often writes: trailing commas, or Python dict syntax (True, 'quotes')."""
    block = block.strip()
    start, end = block.find("{"), block.rfind("}")
    if start == -1 or end <= start:
        return None
    body = block[start:end + 1]
    try:
        obj = json.loads(_TRAILING_COMMA.sub(r"\1", body))
        return obj if isinstance(obj, dict) else None
    except (ValueError, RecursionError):
        pass
    try:  # literal_eval evaluates literals only, never code
        obj = ast.literal_eval(body)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def last_json_object(text: str) -> dict[str, Any]:
    """The last JSON object in the answer (bare or in a ```json fence); FormatError if none."""
    if not isinstance(text, str) or not text.strip():
        raise FormatError("the answer was empty; reply with one JSON object")
    if len(text) > MAX_ANSWER_CHARS:
        raise FormatError(f"the answer is too long ({len(text)} characters); reply with one short JSON object")
    objects = json_objects(text)
    if objects:
        return objects[-1]
    blocks = [body for _, body in _FENCE.findall(text)] or [text]
    for block in reversed(blocks):
        obj = _repaired(block)
        if obj is not None:
            return obj
    raise FormatError("no JSON object found; reply with one JSON object like {\"key\": \"value\"}")


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag, code) of every fenced block; an unclosed last fence runs to the end."""
    if not isinstance(text, str) or len(text) > MAX_ANSWER_CHARS:
        return []
    return [(lang.lower(), body.strip("\n")) for lang, body in _FENCE.findall(text) if body.strip()]


_PY_START = re.compile(r"^(?:from\s+\w|import\s+\w|def\s+\w|class\s+\w|@\w|[A-Z_][A-Z0-9_]*\s*=)", re.M)
_JS_START = re.compile(r"^(?:function\s|const\s|let\s|var\s|'use strict'|\"use strict\"|module\.exports|"
                       r"async\s+function\s|class\s)", re.M)


def extract_code(text: str, language: str = "python", must_define: str | None = None) -> str:
    """The program in an answer: a fenced block of the language (the last one defining `must_define`
    when given), else the bare text from its first line of code. FormatError if there is no code."""
    if not isinstance(text, str) or not text.strip():
        raise FormatError("the answer was empty; reply with the code in a fenced block")
    if len(text) > MAX_ANSWER_CHARS:
        raise FormatError(f"the answer is too long ({len(text)} characters)")
    langs = PY_LANGS if language == "python" else JS_LANGS
    blocks = [code for lang, code in code_blocks(text) if lang in langs]
    if blocks:
        if must_define:
            defining = [b for b in blocks if defines(b, must_define, language)]
            if defining:
                return defining[-1]
        return max(blocks, key=len)
    start = (_PY_START if language == "python" else _JS_START).search(text)
    if start is None:
        raise FormatError(f"no {language} code found; reply with the code in a ```{language} fenced block")
    return text[start.start():].strip()


def defines(code: str, name: str, language: str = "python") -> bool:
    """Whether the code (textually) defines a function called `name`."""
    n = re.escape(name)
    if language == "python":
        return re.search(rf"^\s*(?:async\s+)?def\s+{n}\s*\(", code, re.M) is not None or \
            re.search(rf"^{n}\s*=\s*lambda\b", code, re.M) is not None
    return re.search(rf"(?:function\s+{n}\s*\(|\b(?:const|let|var)\s+{n}\s*=|exports\.{n}\s*=|"
                     rf"module\.exports\s*=\s*\{{[^}}]*\b{n}\b)", code) is not None


def clean_str(value: Any, field: str, *, limit: int, required: bool = True) -> str:
    """A string field of a schema, stripped and bounded; FormatError with the reason otherwise."""
    if value is None:
        if required:
            raise FormatError(f"field {field!r} is missing or empty")
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise FormatError(f"field {field!r} must be a string")
    value = value.strip()
    if required and not value:
        raise FormatError(f"field {field!r} is missing or empty")
    if len(value) > limit:
        raise FormatError(f"field {field!r} is too long ({len(value)} > {limit} characters)")
    return value


def pick(obj: dict[str, Any], *names: str) -> Any:
    """The first present key among spellings models use for the same field."""
    for n in names:
        if n in obj:
            return obj[n]
    lowered = {str(k).lower().replace(" ", "_").replace("-", "_"): v for k, v in obj.items()}
    for n in names:
        if n in lowered:
            return lowered[n]
    return None
