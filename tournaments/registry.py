"""Family names -> modules, imported lazily. A new family is one module plus one line."""
from __future__ import annotations

import importlib
from typing import Any

from tournaments.base import Family

FAMILIES: dict[str, str] = {
    "chess": "tournaments.chess:create",
    "connect-four": "tournaments.connect_four:create",
    "programming": "tournaments.programming:create",
    "predict-output": "tournaments.predict_output:create",
    "trivia": "tournaments.trivia:create",
    "negotiation": "tournaments.negotiation:create",
    "social": "tournaments.social:create",
}


class UnknownFamily(ValueError):
    pass


def create_family(name: str, options: dict[str, Any] | None = None) -> Family:
    target = FAMILIES.get(name)
    if target is None:
        raise UnknownFamily(f"unknown family {name!r} (known: {', '.join(sorted(FAMILIES))})")
    module_name, func = target.split(":")
    return getattr(importlib.import_module(module_name), func)(dict(options or {}))
