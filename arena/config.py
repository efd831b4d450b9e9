"""Tournament configuration: TOML in, validated dataclasses out, one clear line on error."""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import field_validator

from arena import plugins
from arena.errors import UserError
from arena.records import SamplingParams, Variant
from arena.schema import PriceOptions, Schema, read_price_file, setting, validate

LOCAL_DEFAULT = "local/smollm2-135m"

# Variants any config may name without declaring them.
BUILTIN_VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("smol-cold", LOCAL_DEFAULT, SamplingParams(temperature=0.2, max_tokens=192),
                system="You are a careful, precise assistant."),
        Variant("smol-warm", LOCAL_DEFAULT, SamplingParams(temperature=0.9, max_tokens=192),
                system="You are a bold, creative player."),
        Variant("random", "mock/random"),
        Variant("first", "mock/first"),
    )
}

DEFAULT_PLAYERS = ("smol-cold", "smol-warm", "random")


class ConfigError(UserError, ValueError):
    """Shown to the user as one line."""


@dataclass
class TournamentConfig:
    name: str = "default"
    families: tuple[str, ...] = ("chess",)
    players: tuple[str, ...] = DEFAULT_PLAYERS
    referees: tuple[str, ...] = ()
    meta_referees: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    rounds: int = 1
    seed: int = 7
    format: str = "round-robin"
    matches_in_flight: int = 8
    calls_per_model: int = 4
    call_timeout_s: float = 300.0
    max_attempts: int = 6
    cost_limit_usd: float | None = None  # stop scheduling matches once this much is spent
    cache: bool = True  # response cache in the run's store
    unleashed: dict[str, bool] = field(default_factory=dict)  # per-family override
    allow_weak_sandbox: bool = False  # run model code where the sandbox is below level "namespaces"
    # Answers per seat to one prompt, for families that sample (their `samples` option overrides it).
    samples: int = 1
    # Where the work runs; not part of a match's identity: the same matches come out either way.
    ray: str | None = None  # a Ray cluster to use ("auto" or an address), None: none
    sandbox: str = "auto"  # model code runs on the Ray cluster ("ray"), here ("local"), or there if connected
    variants: dict[str, Variant] = field(default_factory=dict)
    family_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "<default>"

    @property
    def tournament_id(self) -> str:
        """The id of a fresh tournament of this config: what makes its matches comparable (see
        `identity`), not its players, families or rounds, so a re-run resumes and a grown config
        continues it (the runner finds a stored tournament it continues: `continues`)."""
        blob = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"), default=str)
        return f"{self.name}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"

    def identity(self) -> dict[str, Any]:
        """What must be equal for two matches to be the same match: name, seed, format, the panel,
        and per family and per variant what changes its matches. Adding a player, a family or
        rounds only adds entries; changing one is a new tournament."""
        return {
            "name": self.name, "seed": self.seed, "format": self.format,
            "panel": {role: list(getattr(self, role)) for role in ("referees", "meta_referees", "authors")},
            "families": {f: self.family_identity(f) for f in self.families},
            "variants": self.variant_definitions(),
        }

    def family_identity(self, family: str) -> dict[str, Any]:
        options = self.family_options.get(family, {})
        return {"options": options, "unleashed": self.unleashed.get(family),
                "samples": options.get("samples", self.samples)}

    def family_key(self, family: str) -> str:
        """A digest of everything but the seats that makes one of `family`'s matches what it is."""
        ident = self.identity()
        panel = set(self.referees) | set(self.meta_referees) | set(self.authors)
        spec = {**ident, "families": ident["families"][family],  # the seats' own definitions: round_robin
                "variants": {n: d for n, d in ident["variants"].items() if n in panel}}
        blob = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def variant_definitions(self) -> dict[str, str]:
        """Each participant's definition digest, which binds its name in a run directory."""
        return {n: variant_definition(self.variants[n]) for n in sorted(self.participants())}

    def participants(self) -> set[str]:
        return set(self.players) | set(self.referees) | set(self.meta_referees) | set(self.authors)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name, "families": list(self.families), "players": list(self.players),
            "referees": list(self.referees), "meta_referees": list(self.meta_referees),
            "authors": list(self.authors), "rounds": self.rounds, "seed": self.seed, "format": self.format,
            "variants": {n: self.variants[n].describe() for n in sorted(self.participants())},
            "family_options": self.family_options, "unleashed": self.unleashed, "source": self.source,
        }


def identity_change(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """How `new` changes the matches of a tournament stored with identity `old`, in words (the
    first difference); None when `new` only adds to it (players, families, rounds)."""
    def shown(d: dict[str, Any], k: str) -> str:
        return json.dumps(d[k], default=str) if k in d else "unset"

    for key in ("seed", "format"):
        if old.get(key) != new.get(key):
            return f"{key} changed ({shown(old, key)} -> {shown(new, key)})"
    for role, names in new["panel"].items():
        if old.get("panel", {}).get(role, []) != names:
            return f"[tournament] {role} changed ({shown(old.get('panel', {}), role)} -> {shown(new['panel'], role)})"
    for fam in sorted(set(old.get("families", {})) & set(new["families"])):
        was, now = old["families"][fam], new["families"][fam]
        for k in sorted(set(was["options"]) | set(now["options"])):
            if was["options"].get(k, ...) != now["options"].get(k, ...):
                return f"family option {fam}.{k} changed ({shown(was['options'], k)} -> {shown(now['options'], k)})"
        for k in ("unleashed", "samples"):
            if was.get(k) != now.get(k):
                return f"{k} of {fam} changed ({shown(was, k)} -> {shown(now, k)})"
    for n in sorted(set(old.get("variants", {})) & set(new["variants"])):
        if old["variants"][n] != new["variants"][n]:
            return f"variant {n!r} changed"
    return None


def grown_identity(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A stored identity grown by a config that continues it: a family or variant once in the
    tournament stays in it, so coming back to it with other settings is noticed."""
    return {**new, "families": {**old.get("families", {}), **new["families"]},
            "variants": {**old.get("variants", {}), **new["variants"]}}


# Where a variant's model runs (players/ray_local.py), not what it answers: the same run with and
# without a cluster is the same tournament.
PLACEMENT_KEYS = frozenset({"replicas", "num_cpus", "num_gpus"})


def variant_definition(variant: Variant) -> str:
    """A digest of what makes the variant answer as it does: model, sampling, system prompt, adapter
    and its backend's options, minus the engine's own (timeouts, connections, prices) and keys. A
    digest, so no option value (a URL with credentials) is stored."""
    engine_keys = set(VariantOptions.model_fields) | PLACEMENT_KEYS
    options = {k: v for k, v in variant.options.items() if k not in engine_keys and "key" not in k}
    blob = json.dumps({**variant.describe(), "options": options}, sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


# --- the schema of what a user writes -------------------------------------------------------------

NAMES = "a list of names"
POSITIVE = "a positive integer"
SECONDS = "a positive number of seconds"


class ConfigFile(Schema):
    """The top-level sections."""
    tournament: dict[str, Any] = setting({}, must="a table")
    variants: list[Any] = setting([], must="declared as [[variants]] tables")
    families: dict[str, dict[str, Any]] = setting({}, must="[families.NAME] tables")


class TournamentSection(Schema):
    name: str = setting("default", must="a printable string of 1 to 100 characters")
    families: list[str] = setting([], must=NAMES)
    players: list[str] = setting([], must=NAMES)
    referees: list[str] = setting([], must=NAMES)
    meta_referees: list[str] = setting([], must=NAMES)
    authors: list[str] = setting([], must=NAMES)
    rounds: int = setting(1, ge=1, must=POSITIVE)
    seed: int = setting(7, must="an integer")
    format: str = setting("round-robin", must="the name of a tournament format")
    matches_in_flight: int = setting(8, ge=1, must=POSITIVE)
    calls_per_model: int = setting(4, ge=1, must=POSITIVE)
    max_attempts: int = setting(6, ge=1, must=POSITIVE)
    call_timeout_s: float = setting(300.0, gt=0, must=SECONDS)
    cost_limit_usd: float | None = setting(None, gt=0, must="a positive number of dollars")
    cache: bool = setting(True, must="true or false")
    unleashed: dict[str, bool] = setting({}, must="a table of family = true/false")
    allow_weak_sandbox: bool = setting(False, must="true or false")
    samples: int = setting(1, ge=1, le=64, must="a whole number from 1 to 64")
    ray: str | None = setting(None, must='"auto" or the address of a Ray cluster (host:port or ray://host:port)')
    sandbox: Literal["auto", "local", "ray"] = setting("auto", must='"auto", "local" or "ray"')

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        # The name heads the tournament id, which every stored match repeats.
        if not value.strip() or len(value) > 100 or not value.isprintable():
            raise ValueError("not printable")
        return value


class VariantTable(Schema):
    """The keys of a [[variants]] table that say who the variant is; every other key is an option of
    its backend, checked by that backend's own `VariantOptions` schema before any match starts."""
    name: str = setting(..., must="a non-empty string")
    model: str = setting(..., must="like 'local/smollm2-135m' or 'openai/gpt-4o-mini'")
    temperature: float | None = setting(None, ge=0, le=2, kind="a number")
    top_p: float | None = setting(None, gt=0, le=1, kind="a number")
    max_tokens: int | None = setting(None, ge=1, kind="a whole number")
    seed: int | None = setting(None, kind="a whole number")
    stop: str | list[str] | None = setting(None, must="a string or a list of strings")
    system: str | None = setting(None, must="a string")
    adapter: str | None = setting(None, must="a path string")

    @field_validator("model")
    @classmethod
    def _provider_slash_model(cls, value: str) -> str:
        if "/" not in value:
            raise ValueError("no provider")
        return value


VARIANT_KEYS = frozenset(VariantTable.model_fields)


class VariantOptions(PriceOptions):
    """The options the engine reads for a variant of any backend (the gateway's timeouts and
    connection limit, the price keys). Each backend subclasses it with its own options."""
    timeout: float | None = setting(None, gt=0, must=SECONDS)
    total_timeout: float | None = setting(None, gt=0, must=SECONDS)
    max_connections: int | None = setting(None, ge=1, must=POSITIVE)


V = TypeVar("V", bound=VariantOptions)


def variant_options(variant: Variant, schema: type[V]) -> V:
    """The variant's options checked by its backend's schema (a misspelt key is refused, naming the
    known ones), and its price file read, so a bad one fails before any match starts."""
    where = f"variant {variant.name!r} ({variant.provider}/...)"
    opts = validate(schema, variant.options, where, ConfigError, noun="option", also_known=VARIANT_KEYS)
    if opts.price_file is not None:
        read_price_file(opts.price_file)
    return opts


# --- parsing -----------------------------------------------------------------------------------------

def _variant(raw: Any, where: str) -> Variant:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each [[variants]] entry must be a table")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: a variant needs a non-empty string 'name'")
    if not name.isprintable():  # names are shown in tables, ids and terminals: a newline or escape would forge them
        raise ConfigError(f"{where}: variant name {name[:60]!r} has control characters (newlines, tabs, escapes)")
    mine = {k: v for k, v in raw.items() if k in VARIANT_KEYS}
    t = validate(VariantTable, mine, f"{where}: variant {name!r}", ConfigError)
    # The values as written, not as validated (1, not 1.0): they feed the tournament id, and a
    # re-run must find the same id to resume.
    params: dict[str, Any] = {k: raw[k] for k in ("temperature", "top_p", "max_tokens", "seed")
                              if raw.get(k) is not None}
    if t.stop is not None:
        params["stop"] = (t.stop,) if isinstance(t.stop, str) else tuple(t.stop)
    options = {k: v for k, v in raw.items() if k not in VARIANT_KEYS}
    return Variant(name=name.strip(), model=t.model, params=SamplingParams(**params), system=t.system,
                   adapter=t.adapter, options=options)


def _unknown_variant(where: str, name: str, place: str, variants: dict[str, Variant]) -> ConfigError:
    return ConfigError(f"{where}: unknown variant {name!r} in {place} "
                       f"(declare it as [[variants]] or use one of: {', '.join(sorted(variants))})")


def parse_config(data: dict[str, Any], where: str = "<config>") -> TournamentConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the config must be a TOML table")
    top = validate(ConfigFile, data, where, ConfigError, noun="section")
    t = validate(TournamentSection, top.tournament, where, ConfigError, noun="[tournament] key",
                 label="[tournament] ")
    variants = dict(BUILTIN_VARIANTS)
    declared: set[str] = set()
    for raw in top.variants:
        v = _variant(raw, where)
        if v.name in declared:
            raise ConfigError(f"{where}: variant {v.name!r} is declared twice")
        declared.add(v.name)
        variants[v.name] = v
    formats = plugins.names(plugins.FORMATS)
    if t.format not in formats:
        raise ConfigError(f"{where}: unknown tournament format {t.format!r} (known: {', '.join(formats)})")
    for listed in ("families", "players"):  # absent means the defaults; an empty list is a mistake
        if listed in top.tournament and not getattr(t, listed):
            raise ConfigError(f"{where}: [tournament] {listed} is an empty list (leave it out for the default)")
    cfg = TournamentConfig(
        name=t.name, families=tuple(t.families) or ("chess",), players=tuple(t.players) or DEFAULT_PLAYERS,
        referees=tuple(t.referees), meta_referees=tuple(t.meta_referees), authors=tuple(t.authors),
        rounds=t.rounds, seed=t.seed, format=t.format, matches_in_flight=t.matches_in_flight,
        calls_per_model=t.calls_per_model, max_attempts=t.max_attempts, call_timeout_s=t.call_timeout_s,
        cost_limit_usd=t.cost_limit_usd, cache=t.cache, unleashed=dict(t.unleashed), variants=variants,
        allow_weak_sandbox=t.allow_weak_sandbox, samples=t.samples, ray=t.ray, sandbox=t.sandbox,
        family_options=top.families, source=where,
    )
    for role in ("players", "referees", "meta_referees", "authors"):
        for n in getattr(cfg, role):
            if n not in variants:
                raise _unknown_variant(where, n, f"[tournament] {role}", variants)
    for family, options in cfg.family_options.items():
        named = options.get("referee_methods") if isinstance(options, dict) else None
        for n in named if isinstance(named, dict) else ():
            if n not in variants:
                raise _unknown_variant(where, n, f"[families.{family}] referee_methods", variants)
    if len(set(cfg.players)) != len(cfg.players):
        raise ConfigError(f"{where}: [tournament] players lists a variant twice")
    if len(cfg.players) < 2:
        raise ConfigError(f"{where}: a tournament needs at least 2 players")
    if len(set(cfg.families)) != len(cfg.families):
        raise ConfigError(f"{where}: [tournament] families lists a family twice")
    return cfg


# Two referees of the embedded model: a referee's accuracy against the executed truth is a rated
# match only when 2+ judge, and decisive only when they differ. Under one method (likelihood) with
# two system prompts they ranked every pair alike, so on predict-output smol-judge decides by the
# verdict letter's probability (DEFAULT_REFEREE_METHODS) and smol-tracer by likelihood.
DEFAULT_REFEREES = (
    {"name": "smol-judge", "model": LOCAL_DEFAULT, "temperature": 0.0, "max_tokens": 8,
     "system": "You are a strict, impartial referee."},
    {"name": "smol-tracer", "model": LOCAL_DEFAULT, "temperature": 0.0, "max_tokens": 8,
     "system": "You run Python in your head line by line and know exactly what a program prints."},
)

DEFAULT_REFEREE_METHODS = {"smol-judge": "probability", "smol-tracer": "likelihood"}
# Both model players write predict-output's programs in every match, also where `random` is seated:
# with only the seated models as authors, 4 of the default run's 6 matches had one author, and one
# proposal is never ranked.
DEFAULT_AUTHORS = ("smol-cold", "smol-warm")


def load_config(path: str | Path | None) -> TournamentConfig:
    if path is None:
        # The out-of-the-box run is a first impression: sized to about two minutes on two cores. With
        # predict-output beside chess its export holds verified pairs: the real output over wrong
        # predictions (player), the right verdict letter (referee), admitted programs (author).
        return parse_config({"tournament": {"families": ["chess", "predict-output"],
                                            "referees": [r["name"] for r in DEFAULT_REFEREES],
                                            "authors": list(DEFAULT_AUTHORS)},
                             "variants": [dict(r) for r in DEFAULT_REFEREES],
                             "families": {"chess": {"max_plies": 40},
                                          "predict-output": {"samples": 2, "author_tokens": 160, "predict_tokens": 48,
                                                             "meta_judging": False,
                                                             "referee_methods": dict(DEFAULT_REFEREE_METHODS)}}},
                            "<default>")
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{p}: nested too deeply to be a tournament config") from None
    return parse_config(data, str(p))
