""""Play N more matches of A vs B" for any run, however it was launched: the tournament's config
is the dashboard's arena.toml, else the file `arena run` recorded as its source, else rebuilt
from what the store recorded of the tournament (families, options, seed, panel, variants). A
config is used only if it continues the stored tournament (same identity), so the new matches
join it instead of starting another one; the rounds grow from the highest round played."""
from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from arena.errors import UserError


def stored_tournament(run_dir: Path, a: str, b: str) -> tuple[dict[str, Any], int]:
    """The newest tournament of the run that plays both a and b (else knows both), and the number
    of rounds it has played (rounds are numbered from 0)."""
    from arena.engine.store import Store
    store = Store(run_dir, create=False)
    try:
        ts = list(reversed(store.tournaments()))
        pick = next((t for t in ts if {a, b} <= set(t["config"].get("players", []))), None) or \
            next((t for t in ts if {a, b} <= set(t["config"].get("variants", {}))), None)
        if pick is None:
            raise UserError(f"no tournament in {run_dir.name} has both {a!r} and {b!r}")
        top = store.db.execute("SELECT MAX(round) FROM matches WHERE tournament_id=?", (pick["id"],)).fetchone()[0]
    finally:
        store.close()
    rounds = int(pick["config"].get("rounds") or 1)
    return pick, rounds if top is None else max(rounds, top + 1)


def rebuilt(described: dict[str, Any]) -> dict[str, Any]:
    """A config's TOML data from a stored tournament config (TournamentConfig.describe())."""
    from arena.config import BUILTIN_VARIANTS
    t: dict[str, Any] = {k: described[k] for k in ("name", "families", "players", "rounds", "seed", "format")}
    for role in ("referees", "meta_referees", "authors"):
        if described.get(role):
            t[role] = list(described[role])
    options = {f: o for f, o in (described.get("family_options") or {}).items() if f in t["families"]}
    ident = (described.get("identity") or {}).get("families", {})
    samples = {d.get("samples") for f, d in ident.items() if f in t["families"] and "samples" not in options.get(f, {})}
    if len(samples) == 1 and (n := samples.pop()) not in (None, 1):
        t["samples"] = n
    if described.get("unleashed"):
        t["unleashed"] = dict(described["unleashed"])
    variants = []
    for name, d in sorted((described.get("variants") or {}).items()):
        if name in BUILTIN_VARIANTS and BUILTIN_VARIANTS[name].describe() == d:
            continue
        table = {"name": name, "model": d["model"]}
        for k, v in (d.get("params") or {}).items():
            if v is not None:
                table[k] = list(v) if isinstance(v, tuple) else v
        table.update({k: d[k] for k in ("system", "adapter") if d.get(k) is not None})
        variants.append(table)
    data: dict[str, Any] = {"tournament": t}
    if any(options.values()):
        data["families"] = {f: o for f, o in options.items() if o}
    if variants:
        data["variants"] = variants
    return data


def continues(data: dict[str, Any], stored: dict[str, Any]) -> str | None:
    """Why this config would not continue the stored tournament, or None when it does."""
    from arena.config import identity_change, parse_config
    try:
        cfg = parse_config(data, "the run's config")
    except UserError as exc:
        return str(exc)
    old = stored["config"].get("identity")
    if cfg.name != stored["name"] or old is None:
        return f"it names tournament {cfg.name!r}, not {stored['name']!r}"
    return identity_change(old, cfg.identity())


def run_config(run_dir: Path, a: str, b: str) -> tuple[dict[str, Any], dict[str, Any], int, str]:
    """(config data, stored tournament, rounds played, where the config came from)."""
    from arena.cli.dash.data import CONFIG_NAME
    stored, played = stored_tournament(run_dir, a, b)
    source = str(stored["config"].get("source") or "")
    files = [run_dir / CONFIG_NAME]
    if source and not source.startswith("<"):
        files += [Path(source)] if Path(source).is_absolute() else [run_dir / source, run_dir.parent / source,
                                                                     Path.cwd() / source]
    why = []
    for path in dict.fromkeys(files):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        problem = continues(data, stored)
        if problem is None:
            return data, stored, played, path.name
        why.append(f"{path.name}: {problem}")
    data = rebuilt(stored["config"])
    problem = continues(data, stored)
    if problem is not None:
        raise UserError(f"cannot rebuild tournament {stored['id']}'s config from the store ({problem}; backend "
                        f"options such as base_url are not stored): put its TOML in {run_dir.name}/arena.toml"
                        + (f" ({'; '.join(why)})" if why else ""))
    return data, stored, played, "the store"


def more_matches_config(run_dir: Path, a: str, b: str, n: int) -> tuple[dict[str, Any], int, str]:
    """The run's config grown by enough rounds of only a and b to play at least n more matches
    between them: (config, matches it adds, where the config came from). A round of two players
    is both seat orders, so n is rounded up to whole rounds."""
    from arena.cli.dash.progress import family_totals
    if a == b:
        raise UserError("play more needs two different variants")
    data, _, played, where = run_config(run_dir, a, b)
    t = dict(data.get("tournament", {}))
    fams = t.get("families") or ["chess"]
    per_round = sum(family_totals({"families": fams, "players": [a, b], "rounds": 1,
                                   "family_options": data.get("families", {})}).values())
    if per_round == 0:
        raise UserError("none of the run's families is played by two players")
    rounds = math.ceil(n / per_round)
    t["players"] = [a, b]
    t["rounds"] = played + rounds
    return {**data, "tournament": t}, rounds * per_round, where
