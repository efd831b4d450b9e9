"""The schema of a generated social game, its parser and the built-in fallback games.

An author writes a spec either as JSON or as labelled lines (small models manage lines better; the
prompt ends with "TITLE:", so a reply may start with the bare title; TURNS defaults to 2, ACTIONS to
propose/agree/refuse and PROCEDURE to referee when left out):

    TITLE: The Lighthouse Council
    PREMISE: A storm is coming; the council must choose who keeps the only lamp.
    ROLE: Keeper | keep the lamp lit | you secretly have a spare wick
    ROLE: Fisher | get the lamp for the harbour | your boat is already damaged
    ACTIONS: argue, offer, promise
    TURNS: 3
    WIN: the player the others vote for keeps the lamp and wins
    PROCEDURE: vote

PROCEDURE says how the engine decides the winner: "vote" (after the last turn every player votes
for another player; most votes win), "lowest_unique" (every player names a number 1-10; the
lowest number nobody else named wins) or "referee" (the referee panel ranks the players by the
WIN condition). Validation is pydantic; an invalid spec gets one re-ask with the errors, then a
built-in game is played and the author's failure is recorded.
"""
from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from arena.records import Constraint
from tournaments.kit.extract import FormatError, json_objects, pick

PROCEDURES = ("vote", "lowest_unique", "referee")
DEFAULT_ACTIONS = ("propose", "agree", "refuse")


class Role(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    goal: str = Field(min_length=3, max_length=200)
    private_info: str = Field(default="", max_length=240)


class GameSpec(BaseModel):
    title: str = Field(min_length=3, max_length=80)
    premise: str = Field(min_length=10, max_length=500)
    roles: list[Role] = Field(min_length=1, max_length=6)  # fewer roles than players: roles repeat
    # Defaults let a small model leave the turn structure out; the referees rank such games lower.
    actions: list[str] = Field(default_factory=lambda: list(DEFAULT_ACTIONS), min_length=1, max_length=8)
    turns: int = Field(default=2, ge=1, le=5)
    win_condition: str = Field(min_length=5, max_length=300)
    procedure: Literal["vote", "lowest_unique", "referee"] = "referee"

    @field_validator("actions")
    @classmethod
    def _actions(cls, v: list[str]) -> list[str]:
        out = []
        for a in v:
            a = " ".join(str(a).split()).lower()
            if not a or len(a) > 30:
                raise ValueError("each action is a short name (1-30 characters)")
            if a not in out:
                out.append(a)
        return out

    @field_validator("roles")
    @classmethod
    def _distinct(cls, v: list[Role]) -> list[Role]:
        if len({r.name.lower() for r in v}) != len(v):
            raise ValueError("role names must be distinct")
        return v

    def render(self) -> str:
        roles = "\n".join(f"ROLE: {r.name} | {r.goal} | {r.private_info}".rstrip(" |") for r in self.roles)
        return (f"TITLE: {self.title}\nPREMISE: {self.premise}\n{roles}\nACTIONS: {', '.join(self.actions)}\n"
                f"TURNS: {self.turns}\nWIN: {self.win_condition}\nPROCEDURE: {self.procedure}")

    def role_for(self, seat: int) -> Role:
        return self.roles[seat % len(self.roles)]


_LINE = re.compile(r"^[\s*#>-]*(TITLE|PREMISE|ROLE|ACTIONS|TURNS|WIN(?:[ _]CONDITION)?|PROCEDURE)\s*[:=]\s*(.*)$",
                   re.I | re.M)


def _from_lines(text: str) -> dict[str, Any] | None:
    found = _LINE.findall(text)
    if not found:
        return None
    d: dict[str, Any] = {"roles": []}
    first = text.strip().splitlines()[0].strip()
    if not _LINE.match(first):  # the prompt ends with "TITLE:", so the reply may start with the title itself
        d["title"] = first.strip(" *#\"'")[:80]
    for key, value in found:
        key, value = key.upper().replace(" ", "_"), value.strip()
        if key == "ROLE":
            parts = [p.strip() for p in value.split("|")]
            d["roles"].append({"name": parts[0], "goal": parts[1] if len(parts) > 1 else "",
                               "private_info": parts[2] if len(parts) > 2 else ""})
        elif key == "ACTIONS":
            d["actions"] = [a.strip() for a in re.split(r"[,;/]", value) if a.strip()]
        elif key == "TURNS":
            m = re.search(r"\d+", value)
            d["turns"] = int(m.group(0)) if m else value
        elif key.startswith("WIN"):
            d["win_condition"] = value
        else:
            d[key.lower()] = value.lower() if key == "PROCEDURE" else value
    return d


def _from_json(text: str) -> dict[str, Any] | None:
    for obj in reversed(json_objects(text)):
        if pick(obj, "roles") is not None:
            roles = pick(obj, "roles")
            if isinstance(roles, list):
                roles = [{"name": pick(r, "name", "role"), "goal": pick(r, "goal", "objective"),
                          "private_info": pick(r, "private_info", "private", "secret") or ""}
                         if isinstance(r, dict) else r for r in roles]
            return {"title": pick(obj, "title", "name"), "premise": pick(obj, "premise", "setting", "description"),
                    "roles": roles, "actions": pick(obj, "actions", "allowed_actions"),
                    "turns": pick(obj, "turns", "rounds"), "win_condition": pick(obj, "win_condition", "win"),
                    "procedure": (pick(obj, "procedure") or "referee")}
    return None


def parse_spec(text: str) -> GameSpec:
    """A validated GameSpec from model text; FormatError listing what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise FormatError("the reply was empty")
    raw = _from_json(text) or _from_lines(text)
    if raw is None:
        raise FormatError("no game spec found; use the TITLE:/PREMISE:/ROLE:/ACTIONS:/TURNS:/WIN:/PROCEDURE: lines")
    raw = {k: v for k, v in raw.items() if v is not None}
    if isinstance(raw.get("procedure"), str):
        raw["procedure"] = raw["procedure"].strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return GameSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'spec'}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise FormatError(f"invalid game spec: {problems}") from None


# Built-in games, played when an author's spec is invalid twice (and in tests).
FALLBACK_SPECS: list[GameSpec] = [
    GameSpec(title="The Lighthouse Council",
             premise="A storm is coming to a small island. The council must decide who keeps the island's only "
                     "working lamp tonight.",
             roles=[Role(name="Keeper", goal="convince the others that the lighthouse needs the lamp",
                         private_info="you have a spare wick hidden in the lighthouse"),
                    Role(name="Fisher", goal="get the lamp for the harbour so the boats come home",
                         private_info="two boats are still out at sea"),
                    Role(name="Doctor", goal="get the lamp for the clinic",
                         private_info="nobody is sick tonight, but a birth may come soon")],
             actions=["argue", "offer", "promise", "question"], turns=2,
             win_condition="the player who receives the most votes keeps the lamp and wins", procedure="vote"),
    GameSpec(title="Lowest Lantern",
             premise="Merchants each name a price for a lantern contract; the lowest price nobody else named wins "
                     "the contract. Talk first: persuade, bluff within the rules, or coordinate.",
             roles=[Role(name="Merchant", goal="win the contract with the lowest unique price",
                         private_info="your costs let you go as low as 1")],
             actions=["announce", "persuade", "ask"], turns=2,
             win_condition="the lowest number named by exactly one player wins", procedure="lowest_unique"),
    GameSpec(title="The Missing Recipe",
             premise="A bakery's secret recipe has vanished. Each player holds one clue and a motive; together "
                     "they must work out what happened, while each protects its own interest.",
             roles=[Role(name="Baker", goal="get the recipe back and keep the bakery's name clean",
                         private_info="you left the back door open last night"),
                    Role(name="Apprentice", goal="prove you are trustworthy enough to be promoted",
                         private_info="you copied the recipe to practise at home"),
                    Role(name="Rival", goal="learn the recipe without being blamed",
                         private_info="you saw the apprentice leave with a notebook")],
             actions=["ask", "reveal clue", "accuse", "defend"], turns=2,
             win_condition="the player who best achieves their goal while finding the truth wins",
             procedure="referee"),
]


def _text(lo: int, hi: int) -> dict[str, Any]:
    return {"type": "string", "minLength": lo, "maxLength": hi}


# A spec as JSON, for backends that enforce a schema (parse_spec reads it; bounds within GameSpec's,
# tighter where a long field would run past the author's token budget).
SPEC_SCHEMA = Constraint.json_schema({
    "type": "object", "additionalProperties": False,
    "required": ["title", "premise", "roles", "actions", "turns", "win_condition", "procedure"],
    "properties": {
        "title": _text(3, 60), "premise": _text(10, 240),
        "roles": {"type": "array", "minItems": 1, "maxItems": 3, "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "goal", "private_info"],
            "properties": {"name": _text(1, 30), "goal": _text(3, 120), "private_info": _text(0, 120)}}},
        "actions": {"type": "array", "minItems": 1, "maxItems": 4, "items": _text(1, 24)},
        "turns": {"enum": [1, 2, 3]}, "win_condition": _text(5, 160),
        "procedure": {"enum": list(PROCEDURES)}}})


def spec_example() -> str:
    return FALLBACK_SPECS[0].render()


def spec_json(spec: GameSpec) -> str:
    return json.dumps(spec.model_dump(), ensure_ascii=False)
