"""One way to validate what a user writes: pydantic models with extra="forbid", one line per error.

Every section a user writes ([tournament], [[variants]] per backend, [families.X], the price file)
is a `Schema`. `validate` turns pydantic's ValidationError into one line naming the section, the
key and, for a misspelt key, the known ones. Fields made with `setting(...)` may say how a wrong
value is described: `kind` for a wrong type ("a number"), `must` for any wrong value.
"""
from __future__ import annotations

import json
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from arena.errors import UserError

S = TypeVar("S", bound="Schema")


class Schema(BaseModel):
    # strict: "3" is not 3 and true is not 1; nan and inf are never a meaningful setting.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


def setting(default: Any = ..., *, kind: str | None = None, must: str | None = None, hidden: bool = False,
            **constraints: Any) -> Any:
    """A field: `kind` describes the expected type, `must` any valid value; `hidden` keys are
    accepted but not listed among the known ones (kept for old configs, not advertised)."""
    extra = {k: v for k, v in (("kind", kind), ("must", must), ("hidden", hidden)) if v}
    return Field(default, json_schema_extra=extra or None, **constraints)


def known_keys(schema: type[BaseModel], also: typing.Iterable[str] = ()) -> list[str]:
    return sorted({name for name, info in schema.model_fields.items() if not _extra(info).get("hidden")} | set(also))


def one_line(exc: ValidationError, schema: type[BaseModel], where: str, noun: str = "key",
             label: str = "", also_known: typing.Iterable[str] = ()) -> str:
    """`where: unknown <noun>(s) a, b (known: ...)` or `where: <label><key> must be ..., got ...`."""
    errors = exc.errors(include_url=False)
    unknown = sorted({_clip(str(e["loc"][0])) for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 1})
    if unknown:
        return (f"{where}: unknown {noun}(s) {', '.join(unknown)} "
                f"(known: {', '.join(known_keys(schema, also_known)) or 'none'})")
    err = errors[0]
    if not err["loc"]:  # a check across fields: its message says it all
        return f"{where}: {_reason(err)}"
    key = str(err["loc"][0])
    if err["type"] == "missing":
        must = _extra(schema.model_fields.get(key)).get("must")
        return f"{where}: {label}{key} is required" + (f" ({must})" if must else "")
    return f"{where}: {label}{key} must be {_expected(schema, key, err)}, got {_shown(err.get('input'))}"


def validate(schema: type[S], data: Any, where: str, error: type[Exception], noun: str = "key",
             label: str = "", also_known: typing.Iterable[str] = ()) -> S:
    """`data` as a `schema` instance, or `error` with one line naming where, the key and the known keys."""
    if not isinstance(data, dict):
        raise error(f"{where} must be a table, got {_shown(data)}")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise error(one_line(exc, schema, where, noun, label, also_known)) from None


def _extra(info: Any) -> dict[str, Any]:
    extra = getattr(info, "json_schema_extra", None)
    return extra if isinstance(extra, dict) else {}


def _reason(err: dict[str, Any]) -> str:
    cause = (err.get("ctx") or {}).get("error")
    return str(cause) if cause is not None else err["msg"]


_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def _expected(schema: type[BaseModel], key: str, err: dict[str, Any]) -> str:
    info = schema.model_fields.get(key)
    extra = _extra(info)
    if extra.get("must"):
        return extra["must"]
    kind = err["type"]
    if kind == "finite_number":
        return "a finite number"
    if kind in _RANGE_ERRORS and info is not None:
        return _range(info)
    if kind == "literal_error":
        return "one of " + str((err.get("ctx") or {}).get("expected"))
    if kind == "value_error":
        return _reason(err)
    return extra.get("kind") or (_type_name(info.annotation) if info is not None else "valid")


def _range(info: Any) -> str:
    bounds: dict[str, Any] = {}
    for m in info.metadata:
        for name, cls in (("ge", annotated_types.Ge), ("gt", annotated_types.Gt), ("le", annotated_types.Le),
                          ("lt", annotated_types.Lt)):
            if isinstance(m, cls):
                bounds[name] = getattr(m, name)
    if "ge" in bounds and "le" in bounds:
        return f"between {bounds['ge']} and {bounds['le']}"
    symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    return " and ".join(f"{symbols[k]} {v}" for k, v in bounds.items()) or "in range"


def _type_name(annotation: Any) -> str:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and args:
        return " or ".join(_type_name(a) for a in args)
    origin = typing.get_origin(annotation) or annotation
    return {dict: "a table", list: "list"}.get(origin, getattr(origin, "__name__", str(origin)))


def _shown(value: Any) -> str:
    # Bounded: a 2 MB string or a deeply nested table is not echoed back.
    try:
        return _clip(repr(value))
    except RecursionError:
        return "a deeply nested value"


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


# --- prices: what a variant's price options and a price file may say -------------------------------

USD = "a non-negative number (USD per million tokens)"


class PriceError(UserError, ValueError):
    """A price option or price file that cannot be used; shown as one line."""


class PriceOptions(Schema):
    """The price keys of a variant (override the built-in table)."""
    price_in: float | None = setting(None, ge=0, must=USD)
    price_out: float | None = setting(None, ge=0, must=USD)
    price_file: str | None = setting(None, must="a path string")


class PriceEntry(Schema):
    """One table of a price file: ["openai/gpt-4o"] input = 2.5, output = 10.0."""
    input: float = setting(..., ge=0, must=USD)
    output: float = setting(..., ge=0, must=USD)


def price_options(options: dict[str, Any], variant_name: str) -> PriceOptions:
    """The price keys among a variant's options, checked (the other keys are its backend's to check)."""
    mine = {k: options[k] for k in PriceOptions.model_fields if k in options}
    return validate(PriceOptions, mine, f"variant {variant_name!r}", PriceError)


def read_price_file(path: str | Path) -> dict[str, tuple[float, float]]:
    """provider/model prefix -> (input, output) USD per million tokens, from a TOML price file."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PriceError(f"price file not found: {p}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PriceError(f"{p}: not valid TOML: {exc}") from None
    table: dict[str, tuple[float, float]] = {}
    for model, entry in data.items():
        if not isinstance(entry, dict) or "/" not in model:
            raise PriceError(f"{p}: each entry must be a table named like \"openai/gpt-4o\" with input/output")
        price = validate(PriceEntry, entry, f"{p}: [{json.dumps(model)}]", PriceError)
        table[model] = (price.input, price.output)
    return table
