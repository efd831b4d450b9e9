"""`arena train` and `arena loop`: close the loop from ranked play to the next checkpoint."""
from __future__ import annotations

import argparse
from pathlib import Path

from arena.cli.common import finite_float
from arena.errors import UserError


def _train_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("training (defaults keep one CPU run to minutes)")
    g.add_argument("--max-pairs", type=int, default=48, help="train on at most this many pairs (default 48)")
    g.add_argument("--epochs", type=finite_float, default=1.0, help="default 1")
    g.add_argument("--max-steps", type=int, default=-1, help="stop after this many optimizer steps")
    g.add_argument("--max-length", type=int, default=512, help="tokens per prompt+answer (default 512)")
    g.add_argument("--batch-size", type=int, default=2)
    g.add_argument("--grad-accum", type=int, default=2)
    g.add_argument("--lr", type=finite_float, default=2e-4, help="LoRA learning rate (default 2e-4)")
    g.add_argument("--beta", type=finite_float, default=0.1, help="DPO beta (default 0.1)")
    g.add_argument("--lora-r", type=int, default=16)
    g.add_argument("--gguf-type", choices=("q8_0", "f16", "q5_1", "q4_1", "f32"), default="q8_0",
                   help="how changed tensors are written; unchanged ones keep their quantization (default q8_0: "
                        "keeps a trained margin at ~0.8x the Q4_1 base's speed; q4_1 runs at the base's speed "
                        "but rounds most of a small LoRA delta away)")
    g.add_argument("--train-seed", type=int, default=0)
    g.add_argument("--rpo-alpha", type=finite_float, default=None,
                   help="weight of an NLL term on the chosen answers beside DPO (RPO; TRL's rpo_alpha); "
                        "default 0 for train, 1 for loop (its forgetting guard)")


def _train_overrides(args: argparse.Namespace) -> dict:
    for flag, value in (("--max-pairs", args.max_pairs), ("--max-length", args.max_length),
                        ("--batch-size", args.batch_size), ("--grad-accum", args.grad_accum),
                        ("--lora-r", args.lora_r)):
        if value < 1:
            raise UserError(f"{flag} must be >= 1")
    if args.epochs <= 0 or args.lr <= 0 or args.beta <= 0:
        raise UserError("--epochs, --lr and --beta must be positive")
    if args.rpo_alpha is not None and args.rpo_alpha < 0:
        raise UserError("--rpo-alpha must be >= 0")
    extra = {} if args.rpo_alpha is None else {"rpo_alpha": args.rpo_alpha}
    return {**extra, "max_pairs": args.max_pairs, "epochs": args.epochs, "max_steps": args.max_steps,
            "max_length": args.max_length, "batch_size": args.batch_size, "grad_accum": args.grad_accum,
            "learning_rate": args.lr, "beta": args.beta, "lora_r": args.lora_r, "lora_alpha": 2 * args.lora_r,
            "gguf_type": args.gguf_type, "seed": args.train_seed}


def register(sub: argparse._SubParsersAction) -> None:
    from arena.cli.export import add_pair_arguments

    p = sub.add_parser("train", help="DPO fine-tune a local variant on exported pairs; registers a new GGUF variant")
    p.add_argument("--pairs", required=True, help="pairs file from `arena export dpo` (.jsonl or .parquet)")
    p.add_argument("--base", required=True,
                   help="variant to start from: a built-in, one in --config, or a variant.toml an earlier train wrote")
    p.add_argument("--out", required=True, help="directory for the checkpoint, variant.toml and train.json")
    p.add_argument("--name", help="the new variant's name (default: BASE-dpo)")
    p.add_argument("--config", help="tournament config declaring --base")
    p.add_argument("--ray", metavar="ADDRESS",
                   help='a Ray cluster ("auto" or host:port): train on one of its GPU workers when it has one')
    _train_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("loop", help="tournament -> export -> train -> the new checkpoint plays its ancestors, K times")
    p.add_argument("config", nargs="?",
                   help="tournament config (default: the embedded model on predict-output and chess, "
                        "docs/training.md)")
    p.add_argument("--iterations", type=int, default=1, help="generations to train (default 1)")
    p.add_argument("--run-dir", default="arena-loop", help="where the store and checkpoints live (default: arena-loop)")
    p.add_argument("--base", help="the local variant to improve (default: the first local player)")
    p.add_argument("--eval", dest="eval_families",
                   help="held-out families to rate the generations on afterwards, comma-separated "
                        "(default with no config: predict-output; 'none' to skip)")
    p.add_argument("--eval-rounds", type=int, default=None,
                   help="rounds of the held-out tournament (default: the tournament's rounds)")
    p.add_argument("--display", choices=("rich", "plain", "none"), default=None)
    p.add_argument("--ray", metavar="ADDRESS",
                   help='use a Ray cluster ("auto" or host:port): the sandbox runs on its workers (docs/scaling.md)')
    p.add_argument("--mix", help="JSONL preference data to interlace with each generation's pairs")
    p.add_argument("--mix-ratio", type=finite_float, default=1.0)
    g = p.add_argument_group("proving each generation (paired held-out evaluation, control arm, forgetting guard)")
    g.add_argument("--eval-tasks", type=int, default=None,
                   help="held-out programs and ordinary questions each generation is evaluated on, greedy and "
                        f"sampled, against its parent (default {_default_tasks()}; 0 skips the evaluation)")
    g.add_argument("--control", choices=("shuffled", "none"), default="none",
                   help="'shuffled': also train a twin on the same pairs with chosen and rejected swapped in a "
                        "seeded half, evaluated the same way (default none)")
    g.add_argument("--no-guard", action="store_true",
                   help="no forgetting guard: no anchor pairs from the ordinary questions, rpo_alpha 0 unless given")
    g.add_argument("--anchor-ratio", type=finite_float, default=None,
                   help=f"anchor pairs per arena pair trained on (default {_default_anchor_ratio():g})")
    p.add_argument("--all-generations", action="store_true",
                   help="train each generation on the earlier generations' matches too (default: only the "
                        "matches the newest generation played)")
    add_pair_arguments(p)
    _train_arguments(p)
    p.set_defaults(func=cmd_loop)


def _default_tasks() -> int:
    from arena.training.evaluate import DEFAULT_TASKS
    return DEFAULT_TASKS


def _default_anchor_ratio() -> float:
    from arena.training.guard import ANCHOR_RATIO
    return ANCHOR_RATIO


def _base_variant(name: str, config: str | None):
    from arena.config import load_config
    from arena.training.train import read_variant_toml
    if name.endswith(".toml") and Path(name).is_file():
        return read_variant_toml(Path(name))
    cfg = load_config(config)
    if name not in cfg.variants:
        raise UserError(f"--base: unknown variant {name!r} (known: {', '.join(sorted(cfg.variants))}; "
                        f"or pass the variant.toml of an earlier `arena train`)")
    return cfg.variants[name]


def cmd_train(args: argparse.Namespace) -> int:
    from arena.training.remote import train_somewhere
    from arena.training.train import TrainOptions, base_gguf, load_pairs, require_extras, summary
    overrides = _train_overrides(args)
    base = _base_variant(args.base, args.config)
    base_gguf(base)
    load_pairs(Path(args.pairs), None, None, 0)  # a bad file fails now, not after the model loaded
    require_extras()
    if args.ray:
        from arena.cluster import connect
        connect(args.ray)
    result = train_somewhere(TrainOptions(pairs=Path(args.pairs), base=base, out=Path(args.out), name=args.name,
                                          **overrides))
    print(summary(result))
    return 0


def cmd_loop(args: argparse.Namespace) -> int:
    from arena.cli.dashboard import default_display, view
    from arena.cli.export import options_from_args
    from arena.config import load_config, parse_config
    from arena.training.loop import DEFAULT_EVAL_FAMILIES, LOOP_DEFAULT, LoopOptions, run_loop, table
    from arena.training.train import require_extras
    overrides = _train_overrides(args)
    if args.mix_ratio < 0:
        raise UserError("--mix-ratio must be >= 0")
    eval_tasks = _default_tasks() if args.eval_tasks is None else args.eval_tasks
    if eval_tasks < 0:
        raise UserError("--eval-tasks must be >= 0 (0 skips the evaluation)")
    anchor_ratio = _default_anchor_ratio() if args.anchor_ratio is None else args.anchor_ratio
    if anchor_ratio < 0:
        raise UserError("--anchor-ratio must be >= 0")
    require_extras()
    cfg = load_config(args.config) if args.config else parse_config(LOOP_DEFAULT, "<loop default>")
    if args.ray:
        cfg.ray = args.ray
    from referees.sandbox.remote import place
    place(cfg.ray, cfg.sandbox)  # before the first tournament: a bad address fails here, in one line
    if args.eval_families is None:
        evals = () if args.config else DEFAULT_EVAL_FAMILIES
    elif args.eval_families.strip().lower() == "none":
        evals = ()
    else:
        evals = tuple(f.strip() for f in args.eval_families.split(",") if f.strip())
    from arena.engine.family import family_names
    for fam in evals:
        if fam not in family_names():
            raise UserError(f"--eval: unknown family {fam!r} (known: {', '.join(family_names())})")
    opts = LoopOptions(iterations=args.iterations, base=args.base, export=options_from_args(args), train=overrides,
                       eval_families=evals, mix=args.mix, mix_ratio=args.mix_ratio,
                       eval_rounds=args.eval_rounds, eval_tasks=eval_tasks,
                       control=None if args.control == "none" else args.control, guard=not args.no_guard,
                       anchor_ratio=anchor_ratio, all_generations=args.all_generations)
    result = run_loop(cfg, args.run_dir, opts, view(args.display or default_display()))
    print(table(result))
    return 0
