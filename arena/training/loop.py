"""`arena loop`: tournament -> preference export -> DPO training -> the new checkpoint joins
the next tournament against its ancestors. Repeated K times, then a last tournament rates
the newest generation, and optionally a tournament on held-out families measures what
the training did on tasks it never saw.

Everything lives in one run directory: one store (so every generation is rated on one
leaderboard), and loop/genN/ with the pairs and the checkpoint of generation N. Re-running
the same command resumes: finished matches are kept and trained generations reused.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.config import TournamentConfig
from arena.errors import UserError
from arena.records import PLAYER, Rating, Variant
from arena.training.export import ExportOptions, export_dpo
from arena.training.train import TrainOptions, TrainResult, read_variant_toml, train

# `arena loop` without a config: the embedded model in two sampling variants plays chess and
# Connect Four. Even a 135M model's games yield pairs there: every move it corrects on a
# re-prompt is a verified preference for the legal answer over the unusable ones
# (tournaments/kit/moves.py), while its referee rankings on open-ended families are mostly ties.
# Predict-output, a verifiable family it never trains on, is held out. Sized so one iteration
# stays well under an hour on 2 cores.
LOOP_DEFAULT = {
    "tournament": {"name": "loop", "families": ["chess", "connect-four"], "players": ["smol-cold", "smol-warm"],
                   "rounds": 4, "seed": 7},
    # Five re-prompts: each corrected move is a pair, and a 135M model often needs several.
    "families": {"chess": {"max_plies": 60, "max_retries": 5}, "connect-four": {"max_retries": 5},
                 "predict-output": {"author_tokens": 192, "predict_tokens": 64, "meta_judging": False}},
}
DEFAULT_EVAL_FAMILIES = ("predict-output",)


@dataclass
class LoopOptions:
    iterations: int = 1
    base: str | None = None  # the variant to improve; default: the first local player
    export: ExportOptions = field(default_factory=ExportOptions)
    train: dict[str, Any] = field(default_factory=dict)  # TrainOptions overrides
    eval_families: tuple[str, ...] = ()
    eval_rounds: int | None = None  # None: the tournament's rounds
    mix: str | None = None
    mix_ratio: float = 1.0


@dataclass
class Generation:
    index: int
    variant: str
    parent: str | None = None
    pairs: int = 0
    trained: TrainResult | None = None


@dataclass
class LoopResult:
    generations: list[Generation]
    ratings: list[Rating]  # player ratings over all families of the loop's tournaments
    eval_ratings: dict[str, list[Rating]] = field(default_factory=dict)  # per held-out family


def pick_base(cfg: TournamentConfig, name: str | None) -> Variant:
    if name:
        if name not in cfg.variants:
            raise UserError(f"--base: unknown variant {name!r} (known: {', '.join(sorted(cfg.variants))})")
        v = cfg.variants[name]
        if v.provider != "local":
            raise UserError(f"--base must be a local GGUF variant to train; {name!r} is {v.model!r}")
        if name not in cfg.players:
            raise UserError(f"--base {name!r} is not a player of the tournament, so it would never be rated")
        return v
    for p in cfg.players:
        if cfg.variants[p].provider == "local":
            return cfg.variants[p]
    raise UserError("the loop trains a local model, but no player is a local/... variant; name one with --base")


def with_variant(cfg: TournamentConfig, v: Variant) -> TournamentConfig:
    """The next generation's config: the new checkpoint joins the players."""
    return dataclasses.replace(cfg, variants={**cfg.variants, v.name: v},
                               players=cfg.players + ((v.name,) if v.name not in cfg.players else ()))


def _run(cfg: TournamentConfig, run_dir: Path, view: Any, log: Callable[[str], None]) -> Any:
    from arena.engine.runner import run
    from players.local import free_models
    from referees.sandbox import allow_weak_sandbox
    allow_weak_sandbox(cfg.allow_weak_sandbox)  # the sandbox refuses model code at weak levels otherwise
    try:
        summary = run(cfg, run_dir, view)
    finally:
        free_models()  # each generation's checkpoint is a new llama.cpp model: keep none of them loaded
    if summary.stopped:
        raise UserError(f"tournament {summary.tournament_id} stopped early: {summary.stopped}")
    log(f"tournament {summary.tournament_id}: {summary.finished} played, {summary.skipped} already done, "
        f"{summary.failed} failed")
    return summary


def run_loop(cfg: TournamentConfig, run_dir: str | Path, opts: LoopOptions, view: Any = None,
             log: Callable[[str], None] = print) -> LoopResult:
    if opts.iterations < 1:
        raise UserError("--iterations must be >= 1")
    if opts.eval_rounds is not None and opts.eval_rounds < 1:
        raise UserError("--eval-rounds must be >= 1")
    run_dir = Path(run_dir)
    base = pick_base(cfg, opts.base)
    unknown = set(opts.train) - {f.name for f in dataclasses.fields(TrainOptions)}
    if unknown:
        raise UserError(f"unknown training option(s): {', '.join(sorted(unknown))}")
    gens = [Generation(0, base.name)]
    current = base
    for i in range(1, opts.iterations + 1):
        log(f"== generation {i - 1}: tournament with {', '.join(cfg.players)}")
        summary = _run(cfg, run_dir, view, log)
        gen_dir = run_dir / "loop" / f"gen{i}"
        name = f"{base.name}-g{i}"
        toml = gen_dir / "variant.toml"
        if toml.is_file():
            new = read_variant_toml(toml)
            if new.name == name and Path(new.model.split("/", 1)[1]).is_file():
                log(f"== generation {i}: reusing {new.name} trained earlier ({toml})")
                gens.append(Generation(i, new.name, current.name))
                cfg, current = with_variant(cfg, new), new
                continue
        gen_dir.mkdir(parents=True, exist_ok=True)
        pairs = gen_dir / "pairs.jsonl"
        export = dataclasses.replace(opts.export, tournament_id=summary.tournament_id)
        stats = export_dpo(run_dir, pairs, export, mix=opts.mix, mix_ratio=opts.mix_ratio,
                           config_unleashed=cfg.unleashed)
        log(f"== exported {stats.summary()}")
        if stats.pairs == 0:
            raise UserError(f"tournament {summary.tournament_id} produced no preference pairs (families: "
                            f"{', '.join(cfg.families)}); use families whose performances are ranked texts")
        log(f"== generation {i}: training {name} from {current.name}")
        result = train(TrainOptions(pairs=pairs, base=current, out=gen_dir, name=name, **opts.train), log=log)
        from arena.training.train import summary as train_summary
        log(train_summary(result))
        gens.append(Generation(i, result.variant.name, current.name, stats.pairs + stats.mixed, result))
        cfg, current = with_variant(cfg, result.variant), result.variant
    log(f"== generation {opts.iterations}: tournament with {', '.join(cfg.players)}")
    last = _run(cfg, run_dir, view, log)
    out = LoopResult(gens, [r for r in last.ratings if r.role == PLAYER])
    if opts.eval_families:
        eval_cfg = dataclasses.replace(cfg, name=f"{cfg.name}-heldout", families=tuple(opts.eval_families),
                                       rounds=opts.eval_rounds or cfg.rounds,
                                       family_options={k: v for k, v in cfg.family_options.items()
                                                       if k in opts.eval_families})
        log(f"== held-out evaluation on {', '.join(opts.eval_families)}")
        ev = _run(eval_cfg, run_dir, view, log)
        for fam in opts.eval_families:
            out.eval_ratings[fam] = [r for r in ev.ratings if r.role == PLAYER and r.family == fam]
    return out


def table(result: LoopResult) -> str:
    """Each generation's rating with its uncertainty, next to the other players'."""
    gen_of = {g.variant: g.index for g in result.generations}

    def block(title: str, ratings: list[Rating], family: str) -> list[str]:
        rows = sorted((r for r in ratings if r.family == family), key=lambda r: -r.conservative)
        lines = [title, f"  {'gen':<4}{'variant':<24}{'mu':>7}{'sigma':>7}{'mu-3σ':>8}{'matches':>9}"]
        for r in rows:
            g = gen_of.get(r.variant)
            lines.append(f"  {'' if g is None else g!s:<4}{r.variant:<24}{r.mu:>7.2f}{r.sigma:>7.2f}"
                         f"{r.conservative:>8.2f}{r.matches:>9}")
        return lines

    lines = block("player ratings, all loop families (mu ± sigma):", result.ratings, "*")
    for fam, ratings in result.eval_ratings.items():
        lines += block(f"held-out family {fam}:", ratings, fam)
    return "\n".join(lines)
