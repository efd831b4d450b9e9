"""Tournament configuration: TOML in, validated dataclasses out, one clear line on error."""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.errors import UserError
from arena.records import SamplingParams, Variant

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

VARIANT_KEYS = {"name", "model", "temperature", "top_p", "max_tokens", "seed", "stop", "system",
                "adapter"}
TOURNAMENT_KEYS = {"name", "families", "players", "referees", "meta_referees", "authors", "rounds",
                   "seed", "format", "matches_in_flight", "calls_per_model", "unleashed", "call_timeout_s",
                   "max_attempts", "cost_limit_usd", "cache"}


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
    variants: dict[str, Variant] = field(default_factory=dict)
    family_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "<default>"

    @property
    def tournament_id(self) -> str:
        """Same config + seed -> same id, so re-running resumes instead of starting over."""
        spec = {
            "name": self.name, "families": list(self.families), "players": list(self.players),
            "referees": list(self.referees), "meta_referees": list(self.meta_referees),
            "authors": list(self.authors), "rounds": self.rounds, "seed": self.seed, "format": self.format,
            "variants": {n: self.variants[n].describe() for n in sorted(self.participants())},
            "family_options": self.family_options,
        }
        blob = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
        return f"{self.name}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"

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


def _variant(raw: Any, where: str) -> Variant:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each [[variants]] entry must be a table")
    name, model = raw.get("name"), raw.get("model")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: a variant needs a non-empty string 'name'")
    if not isinstance(model, str) or "/" not in model:
        raise ConfigError(f"{where}: variant {name!r} needs 'model' like 'local/smollm2-135m' or 'openai/gpt-4o-mini'")
    params: dict[str, Any] = {}
    for key, kind in (("temperature", (int, float)), ("top_p", (int, float)), ("max_tokens", int), ("seed", int)):
        if key in raw:
            value = raw[key]
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ConfigError(f"{where}: variant {name!r}: {key} must be a number, got {value!r}")
            params[key] = value
    if "max_tokens" in params and params["max_tokens"] < 1:
        raise ConfigError(f"{where}: variant {name!r}: max_tokens must be >= 1")
    if "temperature" in params and not 0 <= params["temperature"] <= 2:
        raise ConfigError(f"{where}: variant {name!r}: temperature must be between 0 and 2")
    if "stop" in raw:
        stop = raw["stop"]
        if isinstance(stop, str):
            stop = [stop]
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise ConfigError(f"{where}: variant {name!r}: stop must be a string or a list of strings")
        params["stop"] = tuple(stop)
    system = raw.get("system")
    if system is not None and not isinstance(system, str):
        raise ConfigError(f"{where}: variant {name!r}: system must be a string")
    adapter = raw.get("adapter")
    if adapter is not None and not isinstance(adapter, str):
        raise ConfigError(f"{where}: variant {name!r}: adapter must be a path string")
    options = {k: v for k, v in raw.items() if k not in VARIANT_KEYS}
    return Variant(name=name.strip(), model=model, params=SamplingParams(**params), system=system,
                   adapter=adapter, options=options)


def _names(raw: Any, key: str, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ConfigError(f"{where}: [tournament] {key} must be a list of names")
    return tuple(raw)


def _positive_int(raw: dict[str, Any], key: str, default: int, where: str) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{where}: [tournament] {key} must be a positive integer, got {value!r}")
    return value


def _tournament_name(raw: Any, where: str) -> str:
    # The name heads the tournament id, which every stored match repeats.
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 100 or not raw.isprintable():
        raise ConfigError(f"{where}: [tournament] name must be a printable string of 1 to 100 characters")
    return raw


def parse_config(data: dict[str, Any], where: str = "<config>") -> TournamentConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the config must be a TOML table")
    t = data.get("tournament", {})
    if not isinstance(t, dict):
        raise ConfigError(f"{where}: [tournament] must be a table")
    unknown = set(t) - TOURNAMENT_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown [tournament] key(s): {', '.join(sorted(unknown))}")
    raw_variants = data.get("variants", [])
    if not isinstance(raw_variants, list):
        raise ConfigError(f"{where}: variants must be declared as [[variants]] tables")
    variants = dict(BUILTIN_VARIANTS)
    declared: set[str] = set()
    for raw in raw_variants:
        v = _variant(raw, where)
        if v.name in declared:
            raise ConfigError(f"{where}: variant {v.name!r} is declared twice")
        declared.add(v.name)
        variants[v.name] = v
    players = _names(t.get("players"), "players", where) or DEFAULT_PLAYERS
    cfg = TournamentConfig(
        name=_tournament_name(t.get("name", "default"), where),
        families=_names(t.get("families"), "families", where) or ("chess",),
        players=players,
        referees=_names(t.get("referees"), "referees", where),
        meta_referees=_names(t.get("meta_referees"), "meta_referees", where),
        authors=_names(t.get("authors"), "authors", where),
        rounds=_positive_int(t, "rounds", 1, where),
        seed=t.get("seed", 7),
        format=t.get("format", "round-robin"),
        matches_in_flight=_positive_int(t, "matches_in_flight", 8, where),
        calls_per_model=_positive_int(t, "calls_per_model", 4, where),
        max_attempts=_positive_int(t, "max_attempts", 6, where),
        source=where,
    )
    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool):
        raise ConfigError(f"{where}: [tournament] seed must be an integer")
    timeout = t.get("call_timeout_s", 300.0)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigError(f"{where}: [tournament] call_timeout_s must be a positive number")
    cfg.call_timeout_s = float(timeout)
    cost_limit = t.get("cost_limit_usd")
    if cost_limit is not None and (not isinstance(cost_limit, (int, float)) or isinstance(cost_limit, bool)
                                   or cost_limit <= 0):
        raise ConfigError(f"{where}: [tournament] cost_limit_usd must be a positive number of dollars")
    cfg.cost_limit_usd = float(cost_limit) if cost_limit is not None else None
    if not isinstance(t.get("cache", True), bool):
        raise ConfigError(f"{where}: [tournament] cache must be true or false")
    cfg.cache = t.get("cache", True)
    if cfg.format != "round-robin":
        raise ConfigError(f"{where}: unknown tournament format {cfg.format!r} (known: round-robin)")
    unleashed = t.get("unleashed", {})
    if not isinstance(unleashed, dict) or not all(isinstance(v, bool) for v in unleashed.values()):
        raise ConfigError(f"{where}: [tournament] unleashed must be a table of family = true/false")
    cfg.unleashed = dict(unleashed)
    fam_opts = data.get("families", {})
    if not isinstance(fam_opts, dict) or not all(isinstance(v, dict) for v in fam_opts.values()):
        raise ConfigError(f"{where}: [families.NAME] sections must be tables")
    cfg.family_options = fam_opts
    unknown_top = set(data) - {"tournament", "variants", "families"}
    if unknown_top:
        raise ConfigError(f"{where}: unknown section(s): {', '.join(sorted(unknown_top))}")
    cfg.variants = variants
    for role in ("players", "referees", "meta_referees", "authors"):
        for n in getattr(cfg, role):
            if n not in variants:
                raise ConfigError(f"{where}: unknown variant {n!r} in [tournament] {role} "
                                  f"(declare it as [[variants]] or use one of: {', '.join(sorted(variants))})")
    if len(set(cfg.players)) != len(cfg.players):
        raise ConfigError(f"{where}: [tournament] players lists a variant twice")
    if len(cfg.players) < 2:
        raise ConfigError(f"{where}: a tournament needs at least 2 players")
    if len(set(cfg.families)) != len(cfg.families):
        raise ConfigError(f"{where}: [tournament] families lists a family twice")
    return cfg


def load_config(path: str | Path | None) -> TournamentConfig:
    if path is None:
        # The out-of-the-box run is a first impression: sized to about two minutes on two cores.
        return parse_config({"families": {"chess": {"max_plies": 40}}}, "<default>")
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
