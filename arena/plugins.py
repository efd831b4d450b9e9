"""Finding families, model backends and tournament formats by name, through entry points.

The built-ins register in pyproject.toml exactly as a third-party package does (groups
`arena.families`, `arena.players`, `arena.formats`), so adding one never means editing the engine.
An entry point names a factory: `create(options) -> Family`, `create(variant) -> Backend`,
`schedule(...) -> list[ScheduledMatch]`.
"""
from __future__ import annotations

import functools
import importlib
from importlib.metadata import entry_points
from typing import Any

from arena.errors import UserError

FAMILIES = "arena.families"
PLAYERS = "arena.players"
FORMATS = "arena.formats"


class UnknownPlugin(UserError, ValueError):
    """A name no installed package registers; the message lists the known ones."""


@functools.cache
def registered(group: str) -> dict[str, str]:
    """name -> "module:attribute" for every installed entry point of `group` (read once per process)."""
    return {ep.name: ep.value for ep in entry_points(group=group)}


def names(group: str) -> list[str]:
    return sorted(registered(group))


def target(group: str, name: str, what: str) -> str:
    value = registered(group).get(name)
    if value is None:
        raise UnknownPlugin(f"unknown {what} {name!r} (known: {', '.join(names(group)) or 'none'})")
    return value


def load(group: str, name: str, what: str) -> Any:
    """The object an entry point names, imported on first use (a missing optional SDK only matters then)."""
    module_name, _, attr = target(group, name, what).partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


def module_of(group: str, name: str, what: str) -> Any:
    return importlib.import_module(target(group, name, what).partition(":")[0])
