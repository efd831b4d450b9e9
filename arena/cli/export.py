"""`arena export matches`, `arena export dpo` and `arena export soft`; the pair-selection flags are shared
with `arena loop`."""
from __future__ import annotations

import argparse
import json
import sys

from arena.cli.common import finite_float, open_store, run_dir_argument
from arena.errors import UserError
from arena.files import STDOUT, output_path, text_output
from arena.training.export import FORMATS, PAIR_MODES, ExportOptions, export_dpo


def _bool_map(items: list[str] | None) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        v = value.strip().lower()
        if not sep or not name.strip() or v not in ("true", "false", "1", "0", "yes", "no"):
            raise UserError(f"--unleashed takes FAMILY=true or FAMILY=false, got {item!r}")
        out[name.strip()] = v in ("true", "1", "yes")
    return out


def _csv(values: list[str] | None) -> tuple[str, ...]:
    return tuple(x.strip() for v in values or [] for x in v.split(",") if x.strip())


def add_pair_arguments(p: argparse.ArgumentParser) -> None:
    """The pair-selection flags, shared by `arena export dpo` and `arena loop`."""
    p.add_argument("--role", action="append", help="only these roles (repeat or comma-separate; default: all)")
    p.add_argument("--family", action="append", help="only these families (repeat or comma-separate; default: all)")
    p.add_argument("--pairs", choices=PAIR_MODES, default="best-worst",
                   help="best-worst: one pair per ranked set (default); adjacent: one per step in the ranking; "
                        "all: every better/worse combination")
    p.add_argument("--min-margin", type=finite_float, default=0.0,
                   help="drop pairs whose margin (score difference, else rank difference) is below this")
    p.add_argument("--unleashed", action="append", metavar="FAMILY=BOOL",
                   help="override whether a family's prompts get 'UNLEASHED: ' (default: the family's open_ended "
                        "or the config's [tournament] unleashed)")
    p.add_argument("--no-diversity", action="store_true",
                   help="no near-duplicate penalty (by default near-duplicates lose ties and are "
                        "preferred as rejected)")
    p.add_argument("--no-embeddings", action="store_true",
                   help="lexical near-duplicate detection only, even when sentence embeddings are installed")


def options_from_args(args: argparse.Namespace) -> ExportOptions:
    if args.min_margin < 0:
        raise UserError("--min-margin must be >= 0")
    return ExportOptions(pairs=args.pairs, min_margin=args.min_margin, roles=_csv(args.role),
                         families=_csv(args.family), unleashed=_bool_map(args.unleashed),
                         diversity=not args.no_diversity, embeddings=False if args.no_embeddings else None)


def register_dpo(export_sub: argparse._SubParsersAction) -> None:
    p = export_sub.add_parser("dpo", help="preference pairs for DPO (TRL conversational JSONL or Parquet)")
    run_dir_argument(p)
    p.add_argument("--out", required=True, help="output file (.jsonl or .parquet)")
    p.add_argument("--format", choices=FORMATS, help="default: from the file name (.parquet), else jsonl")
    add_pair_arguments(p)
    p.add_argument("--config", help="tournament config whose [tournament] unleashed table applies")
    p.add_argument("--tournament", help="only the matches of this tournament id")
    p.add_argument("--mix", help="JSONL of your own preference (or instruction) data to interlace with the pairs")
    p.add_argument("--mix-ratio", type=finite_float, default=1.0,
                   help="mix rows per arena pair (default 1.0; 0.5 = one mix row for every two pairs)")
    p.add_argument("--mix-rejected", metavar="VARIANT",
                   help="answer instruction rows of the mix file with this variant: its answer becomes 'rejected', "
                        "the reference response 'chosen' (SPIN-style)")
    p.add_argument("--seed", type=int, default=0, help="seed for sampling the mix rows (default 0)")
    p.set_defaults(func=cmd_export_dpo)


def cmd_export_dpo(args: argparse.Namespace) -> int:
    opts = options_from_args(args)
    opts.tournament_id = args.tournament
    if args.mix_ratio < 0:
        raise UserError("--mix-ratio must be >= 0")
    if (args.mix_rejected or args.mix_ratio != 1.0) and not args.mix:
        raise UserError("--mix-ratio and --mix-rejected need --mix FILE")
    config_unleashed: dict[str, bool] = {}
    variants = None
    if args.config or args.mix_rejected:
        from arena.config import load_config
        cfg = load_config(args.config)
        config_unleashed, variants = dict(cfg.unleashed), cfg.variants
    stats = export_dpo(args.run_dir, args.out, opts, args.format, mix=args.mix, mix_ratio=args.mix_ratio,
                       mix_rejected=args.mix_rejected, seed=args.seed, config_unleashed=config_unleashed,
                       variants=variants)
    note = sys.stderr if args.out == STDOUT else sys.stdout  # stdout may be the data itself
    print(f"wrote {stats.pairs + stats.mixed} rows to {args.out}: {stats.summary()}", file=note)
    if stats.pairs == 0:
        print("arena: no preference pairs in this run (do its families rank texts? chess games are not exported)",
              file=note)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export matches (JSONL) or preference pairs")
    what = p.add_subparsers(dest="what", metavar="WHAT")
    pm = what.add_parser("matches", help="one match per line with its transcript")
    run_dir_argument(pm)
    pm.add_argument("--out", required=True, help="output file (.jsonl)")
    pm.set_defaults(func=cmd_export_matches)
    register_dpo(what)
    ps = what.add_parser("soft", help="soft targets: each answer's win probability against the rest of its set")
    run_dir_argument(ps)
    ps.add_argument("--out", required=True, help="output file (.jsonl, - for stdout)")
    ps.add_argument("--role", action="append", help="only these roles (repeat or comma-separate; default: all)")
    ps.add_argument("--family", action="append", help="only these families (repeat or comma-separate; default: all)")
    ps.add_argument("--tournament", help="only the matches of this tournament id")
    ps.set_defaults(func=cmd_export_soft)
    p.set_defaults(func=_missing_what)


def _missing_what(args: argparse.Namespace) -> int:
    raise UserError("export what? `arena export matches --out FILE`, `arena export dpo --out FILE` or "
                    "`arena export soft --out FILE` (arena export --help)")


def cmd_export_soft(args: argparse.Namespace) -> int:
    from arena.training.soft import export_soft
    opts = ExportOptions(roles=_csv(args.role), families=_csv(args.family), tournament_id=args.tournament)
    stats = export_soft(args.run_dir, args.out, opts)
    print(f"wrote {stats.sets} rows to {args.out}: {stats.summary()}",
          file=sys.stderr if args.out == STDOUT else sys.stdout)
    return 0


def cmd_export_matches(args: argparse.Namespace) -> int:
    out = output_path(args.out)
    store = open_store(args.run_dir)
    if out.parent and not out.parent.exists():
        raise UserError(f"output directory not found: {out.parent}")
    n = 0
    with text_output(out) as fh:
        for m in store.iter_matches():
            fh.write(json.dumps(m, ensure_ascii=False) + "\n")
            n += 1
    print(f"wrote {n} matches to {out}", file=sys.stderr if args.out == STDOUT else sys.stdout)
    return 0
