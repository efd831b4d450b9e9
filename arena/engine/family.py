"""The family interface: a kind of task with its own authoring, play and refereeing.

A family module exposes `create(options) -> Family` and registers it as an `arena.families` entry
point (the built-ins in pyproject.toml, a third-party package in its own). `play` gets a
MatchContext (arena/engine/match.py) through which every model call goes, and returns a
MatchResult of ranked sets. The engine finds families only by name, so it never imports one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from arena import plugins
from arena.errors import UserError
from arena.records import MatchResult

if TYPE_CHECKING:
    from arena.engine.match import MatchContext


UnknownFamily = plugins.UnknownPlugin


class FamilyOptionError(UserError, ValueError):
    """A family option in the config is wrong; the message is shown as is."""


class Family(Protocol):
    name: str
    seats: int  # players per match
    open_ended: bool  # open-ended tasks get the UNLEASHED: prefix

    async def play(self, ctx: "MatchContext") -> MatchResult: ...


def reject_unknown(options: dict[str, Any], known: set[str], family: str, hidden: set[str] = frozenset()) -> None:
    """A misspelt option is one clear error naming the known ones (`hidden` ones are accepted, not listed)."""
    unknown = set(options) - known
    if unknown:
        raise FamilyOptionError(f"[families.{family}] unknown option(s): {', '.join(sorted(unknown))} "
                                f"(known: {', '.join(sorted(known - hidden))})")


def option(options: dict[str, Any], key: str, default: Any, kind: type, family: str,
           minimum: float | None = None) -> Any:
    """Read one option with a type check and a clear message."""
    value = options.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise FamilyOptionError(f"[families.{family}] {key} must be {kind.__name__}, got {value!r}")
    if minimum is not None and value < minimum:
        raise FamilyOptionError(f"[families.{family}] {key} must be >= {minimum}, got {value!r}")
    return value


def family_names() -> list[str]:
    return plugins.names(plugins.FAMILIES)


def create_family(name: str, options: dict[str, Any] | None = None) -> Family:
    return plugins.load(plugins.FAMILIES, name, "family")(dict(options or {}))
