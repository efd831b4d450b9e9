"""The family interface: a kind of task with its own authoring, play and refereeing.

A family module exposes `create(options) -> Family` and registers it as an `arena.families` entry
point (the built-ins in pyproject.toml, a third-party package in its own). `play` gets a
MatchContext (arena/engine/match.py) through which every model call goes, and returns a
MatchResult of ranked sets. The engine finds families only by name, so it never imports one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from arena import plugins
from arena.errors import UserError
from arena.records import MatchResult
from arena.schema import Schema, validate

if TYPE_CHECKING:
    from arena.engine.match import MatchContext


UnknownFamily = plugins.UnknownPlugin
S = TypeVar("S", bound=Schema)


class FamilyOptionError(UserError, ValueError):
    """A family option in the config is wrong; the message is shown as is."""


class Family(Protocol):
    name: str
    seats: int  # players per match
    open_ended: bool  # open-ended tasks get the UNLEASHED: prefix

    async def play(self, ctx: "MatchContext") -> MatchResult: ...


def family_options(schema: type[S], options: dict[str, Any], family: str) -> S:
    """[families.<family>] checked by the family's options schema: a misspelt key, a wrong type or an
    out-of-range value is one FamilyOptionError naming the section, the key and the known keys."""
    return validate(schema, options, f"[families.{family}]", FamilyOptionError, noun="option")


def family_names() -> list[str]:
    return plugins.names(plugins.FAMILIES)


def create_family(name: str, options: dict[str, Any] | None = None) -> Family:
    return plugins.load(plugins.FAMILIES, name, "family")(dict(options or {}))
