"""The New tournament form's model, over the real config schema: which fields there are (the
[tournament] keys the form offers, each family's options with their defaults), a field's value
checked by its schema (the schema's own one-line error), and the config written as TOML."""
from __future__ import annotations

import inspect
import json
import math
import tomllib
from typing import Any

from pydantic import BaseModel, ValidationError

from arena import plugins
from arena.config import BUILTIN_VARIANTS
from arena.schema import Schema, one_line

# The [tournament] keys the form offers, in its order (the rest keep their defaults).
TOURNAMENT_FIELDS = ("name", "rounds", "seed", "samples", "matches_in_flight", "cost_limit_usd")
# The [[variants]] sampling keys a variant added by model name may set (VariantTable checks them).
VARIANT_FIELDS = ("temperature", "top_p", "max_tokens", "seed", "system")
RAW_TEXT = frozenset({"system"})  # taken as typed, never read as a TOML value
VARIANT_BASE = {"name": "v", "model": "local/v"}  # a valid name and model, to check one field alone


def default(schema: type[BaseModel], key: str) -> Any:
    value = schema.model_fields[key].default
    return None if value is ... else value


def shown(value: Any) -> str:
    """A default as the user would type it (TOML literal); None is an empty field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return to_toml_value(value)


def parse_value(text: str) -> Any:
    """What the user typed, read as a TOML value (40, 0.5, true, ["a"]); anything else is a string;
    empty is None (the default)."""
    text = text.strip()
    if not text:
        return None
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def field_error(schema: type[BaseModel], key: str, text: str, where: str,
                base: dict[str, Any] | None = None) -> str | None:
    """The schema's one-line error for this field alone, or None when it is fine (or left empty).
    `base`: valid values of the schema's required fields, so only this field's error shows."""
    value = text if key in RAW_TEXT else parse_value(text)
    if value is None or value == "":
        return None
    try:
        schema.model_validate({**(base or {}), key: value})
    except ValidationError as exc:
        mine = [e for e in exc.errors() if e["loc"] and e["loc"][0] == key]
        if mine:
            return one_line(exc, schema, where)
    return None


def options_schema(family: str) -> type[Schema] | None:
    """The family's options schema: the `...Options` Schema its entry point's module defines."""
    try:
        module = plugins.module_of(plugins.FAMILIES, family, "family")
    except Exception:  # noqa: BLE001 - a family that cannot load offers no options
        return None
    found = [obj for _, obj in inspect.getmembers(module, inspect.isclass)
             if issubclass(obj, Schema) and obj.__module__ == module.__name__ and obj.__name__.endswith("Options")]
    return found[0] if len(found) == 1 else (min(found, key=lambda c: len(c.__mro__)) if found else None)


def family_fields(family: str) -> list[tuple[str, str, str]]:
    """(option, default as text, what it must be) of each option of the family."""
    schema = options_schema(family)
    if schema is None:
        return []
    out = []
    for key, info in schema.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        out.append((key, shown(default(schema, key)), str(extra.get("must") or extra.get("kind") or "")))
    return out


def variant_table(name: str, model: str, base_url: str = "", sampling: dict[str, str] | None = None) -> dict[str, Any]:
    """A declared variant from a model name: openai/..., openai-api/<service>/... (with its base URL),
    local/<path>.gguf, anthropic/...; with its sampling options (VARIANT_FIELDS) where given."""
    table: dict[str, Any] = {"name": name.strip(), "model": model.strip()}
    if base_url.strip():
        table["base_url"] = base_url.strip()
    for key, text in (sampling or {}).items():
        value = text if key in RAW_TEXT else parse_value(text)
        if value not in (None, ""):
            table[key] = value
    return table


def build(values: dict[str, str], families: dict[str, dict[str, str]], roles: dict[str, list[str]],
          variants: list[dict[str, Any]]) -> dict[str, Any]:
    """The config as TOML data: [tournament], [families.NAME] (options changed from the default
    only) and [[variants]]."""
    tournament: dict[str, Any] = {}
    for key, text in values.items():
        value = parse_value(text)
        if value is not None:
            tournament[key] = value
    tournament["families"] = list(families)
    for role, names in roles.items():  # players, referees, authors, meta_referees
        if names or role == "players":
            tournament[role] = list(names)
    fams: dict[str, dict[str, Any]] = {}
    for fam, opts in families.items():
        defaults = {k: d for k, d, _ in family_fields(fam)}
        chosen = {k: parse_value(t) for k, t in opts.items() if t.strip() and t.strip() != defaults.get(k, "")}
        fams[fam] = {k: v for k, v in chosen.items() if v is not None}
    data: dict[str, Any] = {"tournament": tournament}
    if any(fams.values()):
        data["families"] = {k: v for k, v in fams.items() if v}
    if variants:
        data["variants"] = variants
    return data


def check(data: dict[str, Any]) -> str | None:
    """The whole config's first problem as the command line would say it, or None."""
    from arena.config import parse_config
    from arena.engine.runner import build_families, plan
    from arena.errors import UserError
    try:
        cfg = parse_config(data, "the form")
        plan(cfg, build_families(cfg))
    except UserError as exc:
        return str(exc)
    return None


def variant_names(declared: list[dict[str, Any]]) -> list[str]:
    return sorted(BUILTIN_VARIANTS) + [v["name"] for v in declared if v["name"] not in BUILTIN_VARIANTS]


def to_toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {to_toml_value(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"cannot write {type(value).__name__} as TOML")


def to_toml(data: dict[str, Any]) -> str:
    """The config as TOML text (tables of simple values, [[variants]]); read back it is `data`."""
    out = ["# written by `arena dash`; run it again with `arena run arena.toml --run-dir .`"]
    out.append("[tournament]")
    out += [f"{k} = {to_toml_value(v)}" for k, v in data["tournament"].items()]
    for fam, opts in data.get("families", {}).items():
        out.append(f"\n[families.{json.dumps(fam)}]")
        out += [f"{k} = {to_toml_value(v)}" for k, v in opts.items()]
    for v in data.get("variants", []):
        out.append("\n[[variants]]")
        out += [f"{k} = {to_toml_value(x)}" for k, x in v.items()]
    text = "\n".join(out) + "\n"
    if tomllib.loads(text) != data:  # a value this writer cannot round-trip must not launch a different run
        raise ValueError("the form's config does not survive being written as TOML")
    return text
