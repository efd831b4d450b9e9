"""`arena loop`: tournament -> preference export -> DPO training -> the new checkpoint joins
the next tournament against its ancestors. Repeated K times, then a last tournament rates
the newest generation, and optionally a tournament on held-out families measures what
the training did on tasks it never saw.

Each generation proves itself (arena/training/evaluate.py): parent and child answer the same
held-out tasks with the same seeds, and the differences get bootstrap intervals; with
`control="shuffled"` a twin trained on the same pairs, half of them swapped, is evaluated the
same way, so a lift can be told from the effect of training at all. Forgetting is guarded by
default (arena/training/guard.py): anchor pairs from the ordinary questions' train split join the
pairs, and an NLL term on chosen (rpo_alpha) keeps chosen texts likely. Not yet measured which
of the two, or what weights, guard best: GUARD_RPO_ALPHA and ANCHOR_RATIO are first choices.

Between generations the predict-output curriculum moves (tier_step): the solve rates per generated
tier of the matches a generation played pick the next tournament's tier centre. Generation N+1
trains on the matches generation N played (the newest, on-policy data; `all_generations` adds the
earlier ones). The last tournament only rates: the lineage, a few rounds (rating_config).

Everything lives in one run directory: one store (so every generation is rated on one
leaderboard), and loop/genN/ with the pairs and the checkpoint of generation N. Re-running
the same command resumes: finished matches are kept and trained generations reused.
"""
from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.config import DEFAULT_REFEREE_METHODS, DEFAULT_REFEREES, TournamentConfig
from arena.errors import UserError
from arena.records import PLAYER, Rating, Variant
from arena.training.evaluate import DEFAULT_TASKS
from arena.training.export import ExportOptions, export_dpo
from arena.training.guard import ANCHOR_RATIO
from arena.training.remote import train_somewhere
from arena.training.train import TrainOptions, TrainResult, read_variant_toml

# `arena loop` without a config: the embedded model in two sampling variants plays predict-output
# and chess. Predict-output gives most of the verified pairs: each seat predicts every program
# 8 times (the real output is chosen over every distinct wrong prediction, so truth pairs grow with
# the samples), every match plays 3 programs (the stock tops up what authors wrote: a stocked
# program costs only its predictions, and distinct programs repeat fewer wrong answers than more
# samples of one: 483 verified pairs per tournament, against 286 for 16 samples of one),
# generated programs start at tier 0 (the only tier the embedded model sometimes solves:
# tier_step moves the centre from the solve rates), authors (shown a generated example to
# vary, no re-ask: admitted programs were rare and each re-ask cost a whole program) are ranked by
# learnability, and the right verdict letter is chosen over the wrong one for the referees. Two
# referee variants (DEFAULT_REFEREES) judge by two methods, since seated players never judge their
# own match and a referee's accuracy is rated only when 2+ judge and decisive only when they differ.
# Every move corrected on a chess re-prompt is a verified pair for the legal answer; chess games are
# short (they gave 4 of 484 verified pairs).
# calls_per_model 8: llama-server decodes 8 calls of a model at once. Held-out programs (a disjoint
# part of the generator's space) and ordinary questions are the paired evaluation
# (arena/training/evaluate.py), so no held-out tournament is needed.
LOOP_DEFAULT = {
    "tournament": {"name": "loop", "families": ["predict-output", "chess"], "players": ["smol-cold", "smol-warm"],
                   "referees": [r["name"] for r in DEFAULT_REFEREES], "rounds": 7, "seed": 7, "samples": 8,
                   "calls_per_model": 8},
    "variants": [dict(r) for r in DEFAULT_REFEREES],
    # Five re-prompts: each corrected move is a pair, and a 135M model often needs several.
    "families": {"chess": {"max_plies": 20, "max_retries": 5},
                 "predict-output": {"author_tokens": 160, "predict_tokens": 48, "meta_judging": False, "retries": 0,
                                    "programs": 3, "tier_center": 0.0, "referee_methods": dict(DEFAULT_REFEREE_METHODS)}},
}
RATING_ROUNDS = 3  # the last tournament only rates the newest generation: the lineage, a few rounds
DEFAULT_EVAL_FAMILIES: tuple[str, ...] = ()  # `--eval FAMILY,...` adds held-out tournaments
CONTROLS = ("shuffled",)
GUARD_RPO_ALPHA = 1.0  # the RPO paper's weight; TRL's docs recommend it too
SUMMARY_NAME = "generation.json"  # per generation, beside its train.json and eval.json


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
    eval_tasks: int = DEFAULT_TASKS  # per task set of the paired evaluation; 0 skips it
    control: str | None = None  # "shuffled": a twin trained on the same pairs, half of them swapped
    guard: bool = True  # anchor pairs, and rpo_alpha GUARD_RPO_ALPHA unless `train` sets it
    anchor_ratio: float = ANCHOR_RATIO
    # Generation N+1 trains on the matches generation N played (the newest, on-policy data); True
    # adds the earlier generations' matches of the same tournament too.
    all_generations: bool = False
    rating_rounds: int | None = RATING_ROUNDS  # the last tournament (rating_config); None: the whole one again


@dataclass
class Generation:
    index: int
    variant: str
    parent: str | None = None
    pairs: int = 0
    trained: TrainResult | None = None
    anchors: int = 0
    control: str | None = None  # the control twin's variant name
    evaluation: dict[str, Any] | None = None  # eval.json without the answers
    tier: dict[str, Any] | None = None  # the curriculum's decision after the tournament it trained on


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


def tier_step(cfg: TournamentConfig, run_dir: Path, tournament_id: str, variant: str
              ) -> tuple[TournamentConfig, dict[str, Any] | None]:
    """The next generation's config with the predict-output tier centre moved by this generation's
    solve rates per generated tier (the matches `variant` played in the tournament; the generator's
    `next_tier_center`), and the decision for generation.json. The centre is a family option, so
    it is part of the next matches' identity: they replay exactly. None when the loop plays no
    predict-output or its tier is fixed."""
    from arena.engine.store import Store
    from tournaments.families.predict_output.family import NAME, PredictOutputFamily
    from tournaments.families.predict_output.generator import next_tier_center
    opts = cfg.family_options.get(NAME, {})
    if NAME not in cfg.families or opts.get("tier", "auto") != "auto":
        return cfg, None
    center = float(opts.get("tier_center", PredictOutputFamily.tier_center))
    by_tier: dict[int, list[float]] = {}
    matches = 0
    store = Store(run_dir, create=False)
    try:
        rows = store.db.execute("SELECT seats, details FROM matches WHERE tournament_id=? AND family=? AND "
                                "status='finished' AND seq >= 0", (tournament_id, NAME)).fetchall()
    finally:
        store.close()
    for seats, details in rows:
        if variant not in json.loads(seats):
            continue
        matches += 1
        for played in (json.loads(details or "{}").get("played") or []):
            source = str(played.get("source", ""))
            if source.startswith("generated:tier"):  # authored programs have no tier
                by_tier.setdefault(int(source.split(":")[1][4:]), []).append(float(played["solve_rate"]))
    rates = {t: round(sum(v) / len(v), 4) for t, v in sorted(by_tier.items())}
    nxt = next_tier_center(rates, center)
    step = {"solve_rates": rates, "center": center, "next_center": nxt, "matches": matches}
    if nxt == center:
        return cfg, step
    return dataclasses.replace(cfg, family_options={**cfg.family_options, NAME: {**opts, "tier_center": nxt}}), step


def _tier_line(step: dict[str, Any]) -> str:
    rates = ", ".join(f"tier {t} {p:.2f}" for t, p in step["solve_rates"].items()) or "no generated program"
    return (f"== curriculum: solve rate {rates} over {step['matches']} predict-output matches: "
            f"tier centre {step['center']:g} -> {step['next_center']:g}")


def rating_config(cfg: TournamentConfig, lineage: list[str], rounds: int | None) -> TournamentConfig:
    """The last tournament, which only rates the newest generation: the lineage (base, g1, ...) in
    `rounds` rounds, a tournament of its own beside the others in the one store (so on one
    leaderboard). None: the whole tournament again, every player (each new pairing, all rounds)."""
    if rounds is None:
        return cfg
    return dataclasses.replace(cfg, name=f"{cfg.name}-rating", players=tuple(lineage), rounds=rounds)


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
    if opts.control is not None and opts.control not in CONTROLS:
        raise UserError(f"--control must be one of {', '.join(CONTROLS)} or none, got {opts.control!r}")
    if opts.eval_tasks < 0:
        raise UserError("--eval-tasks must be >= 0 (0 skips the evaluation)")
    if opts.anchor_ratio < 0:
        raise UserError("--anchor-ratio must be >= 0")
    train_opts = dict(opts.train)
    if opts.guard:
        train_opts.setdefault("rpo_alpha", GUARD_RPO_ALPHA)
    gens = [Generation(0, base.name)]
    current = base
    for i in range(1, opts.iterations + 1):
        started = time.time()
        log(f"== generation {i - 1}: tournament with {', '.join(cfg.players)}")
        summary = _run(cfg, run_dir, view, log)
        next_cfg, tier = tier_step(cfg, run_dir, summary.tournament_id, current.name)
        if tier is not None:
            log(_tier_line(tier))
        gen_dir = run_dir / "loop" / f"gen{i}"
        name = f"{base.name}-g{i}"
        toml = gen_dir / "variant.toml"
        if toml.is_file():
            new = read_variant_toml(toml)
            if new.name == name and Path(new.model.split("/", 1)[1]).is_file():
                log(f"== generation {i}: reusing {new.name} trained earlier ({toml})")
                gen = Generation(i, new.name, current.name, tier=tier)
                gens.append(_prove(gen, current, new, gen_dir, run_dir, opts, train_opts, log))
                if not (gen_dir / SUMMARY_NAME).is_file():
                    _summarise(gen_dir, gens[-1], summary.tournament_id, started, tier=tier)
                cfg, current = with_variant(next_cfg, new), new
                continue
        gen_dir.mkdir(parents=True, exist_ok=True)
        pairs = gen_dir / "pairs.jsonl"
        export = dataclasses.replace(opts.export, tournament_id=summary.tournament_id,
                                     seated=None if opts.all_generations else current.name)
        stats = export_dpo(run_dir, pairs, export, mix=opts.mix, mix_ratio=opts.mix_ratio,
                           config_unleashed=cfg.unleashed)
        log(f"== exported {stats.summary()}")
        if stats.pairs == 0:
            raise UserError(f"tournament {summary.tournament_id} produced no preference pairs (families: "
                            f"{', '.join(cfg.families)}); use families whose performances are ranked texts")
        anchors = _add_anchors(pairs, current, stats.pairs + stats.mixed, run_dir, opts, train_opts, log)
        for stale in (gen_dir / "eval.json", gen_dir / "control" / "variant.toml"):
            stale.unlink(missing_ok=True)  # they belong to the checkpoint trained before, if any
        log(f"== generation {i}: training {name} from {current.name}")
        result = train_somewhere(TrainOptions(pairs=pairs, base=current, out=gen_dir, name=name, **train_opts), log=log)
        from arena.training.train import summary as train_summary
        log(train_summary(result))
        gen = Generation(i, result.variant.name, current.name, stats.pairs + stats.mixed + anchors, result, anchors,
                         tier=tier)
        gens.append(_prove(gen, current, result.variant, gen_dir, run_dir, opts, train_opts, log))
        _summarise(gen_dir, gens[-1], summary.tournament_id, started, stats, tier)
        cfg, current = with_variant(next_cfg, result.variant), result.variant
    rate = rating_config(cfg, [g.variant for g in gens], opts.rating_rounds)
    log(f"== generation {opts.iterations}: rating tournament with {', '.join(rate.players)}, {rate.rounds} rounds")
    last = _run(rate, run_dir, view, log)
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


def _summarise(gen_dir: Path, gen: Generation, tournament_id: str, started: float, stats: Any = None,
               tier: dict[str, Any] | None = None) -> None:
    """genN/generation.json: what train.json and eval.json beside it do not say (the tournament, the
    pairs exported, the minutes the generation took, the curriculum's tier decision), for the
    dashboard's Loop screen."""
    body = {"generation": gen.index, "variant": gen.variant, "parent": gen.parent, "control": gen.control,
            "tournament": tournament_id, "started_at": started, "seconds": round(time.time() - started, 1),
            "tier": tier}
    if stats is not None:
        body.update(exported=stats.pairs, mixed=stats.mixed, anchors=gen.anchors)
    (gen_dir / SUMMARY_NAME).write_text(json.dumps(body, indent=1), encoding="utf-8")


def _add_anchors(pairs: Path, parent: Variant, arena_pairs: int, run_dir: Path, opts: LoopOptions,
                 train_opts: dict[str, Any], log: Callable[[str], None]) -> int:
    """Append the guard's anchor pairs to the generation's pairs file; how many."""
    if not opts.guard or opts.anchor_ratio == 0:
        return 0
    from arena.training.guard import anchor_pairs
    from players.local import free_models
    cap = train_opts.get("max_pairs", TrainOptions.max_pairs) or arena_pairs
    want = max(1, round(opts.anchor_ratio * min(arena_pairs, cap)))
    try:
        rows = anchor_pairs(parent, want, run_dir / "loop" / "eval-cache.sqlite", train_opts.get("seed", 0))
    finally:
        free_models()
    with pairs.open("a", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    log(f"== forgetting guard: {len(rows)} anchor pairs from the ordinary questions' train split "
        f"(wanted {want}), rpo_alpha {train_opts.get('rpo_alpha', 0):g}")
    return len(rows)


def _prove(gen: Generation, parent: Variant, child: Variant, gen_dir: Path, run_dir: Path, opts: LoopOptions,
           train_opts: dict[str, Any], log: Callable[[str], None]) -> Generation:
    """The control twin (if asked) and the paired evaluation of a generation, each reused when done."""
    arms = {"child": child}
    if opts.control == "shuffled":
        ctl_dir = gen_dir / "control"
        toml = ctl_dir / "variant.toml"
        ctl = read_variant_toml(toml) if toml.is_file() else None
        if ctl is not None and Path(ctl.model.split("/", 1)[1]).is_file():
            log(f"== generation {gen.index}: reusing control {ctl.name} ({toml})")
        else:
            log(f"== generation {gen.index}: training the control twin on the same pairs, half of them swapped")
            ctl = train_somewhere(TrainOptions(pairs=gen_dir / "pairs.jsonl", base=parent, out=ctl_dir,
                                               name=f"{child.name}-control",
                                               **{**train_opts, "shuffle_seed": gen.index}), log=log).variant
            (gen_dir / "eval.json").unlink(missing_ok=True)
        arms["control"] = ctl
        gen.control = ctl.name
    if opts.eval_tasks == 0:
        return gen
    from arena.training.evaluate import evaluate
    from arena.training.evaluate import table as eval_table
    from players.local import free_models
    path = gen_dir / "eval.json"
    want = {"parent": parent.name, **{k: v.name for k, v in arms.items()}}
    report = None
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        if {k: m["variant"] for k, m in old.get("models", {}).items()} == want and \
                old.get("tasks", {}).get("ordinary") == opts.eval_tasks:
            report = old
            log(f"== generation {gen.index}: reusing the evaluation in {path}")
    if report is None:
        try:
            report = evaluate(parent, arms, opts.eval_tasks, run_dir / "loop" / "eval-cache.sqlite",
                              seed=train_opts.get("seed", 0), log=log)
        finally:
            free_models()
        path.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    gen.evaluation = {k: v for k, v in report.items() if k not in ("answers", "truths")}
    log(f"== generation {gen.index}: paired held-out evaluation ({report['seconds']:.0f}s, {path})")
    for line in eval_table(gen.evaluation):
        log(line)
    return gen


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
    from arena.training.evaluate import table as eval_table
    for g in result.generations:
        if g.tier:
            lines.append(f"generation {g.index} was trained after this {_tier_line(g.tier)[3:]}")
        if g.evaluation:
            lines.append(f"generation {g.index} ({g.variant} from {g.parent}), paired held-out evaluation, "
                         f"mean [95% bootstrap interval]:")
            lines += eval_table(g.evaluation)
    return "\n".join(lines)
