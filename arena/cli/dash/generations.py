"""What the Loop screen reads of a loop's run directory, as plain rows: per generation (loop/genN/)
its checkpoint, the pairs exported and trained on, the training steps and loss (train.json), the
paired held-out lift with its interval and any REGRESSION (eval.json), the minutes it took
(generation.json, written by arena/training/loop.py when the generation is done); and the
checks of the launch form, made by `arena loop`'s own parser and its own range checks."""
from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import re
from pathlib import Path
from typing import Any

from arena.errors import UserError

LIFT = "predict-output similarity"  # the evaluation's headline metric (arena/training/evaluate.py)


def _json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _interval(d: dict[str, Any] | None) -> str:
    return "-" if not d else f"{d['mean']:+.2f} [{d['lo']:+.2f}, {d['hi']:+.2f}]"


def generations(run_dir: str | Path) -> list[dict[str, Any]]:
    """One row per generation directory, in order, with what is known of it so far."""
    from arena.training.loop import SUMMARY_NAME
    base = Path(run_dir) / "loop"
    dirs = [d for d in base.glob("gen*") if d.is_dir() and re.fullmatch(r"gen\d+", d.name)] if base.is_dir() else []
    rows = []
    for d in sorted(dirs, key=lambda d: int(d.name[3:])):
        summary, trained, report = _json(d / SUMMARY_NAME), _json(d / "train.json"), _json(d / "eval.json")
        exported = summary.get("exported")
        if exported is None and (d / "pairs.jsonl").is_file():  # still training: count the file
            with open(d / "pairs.jsonl", "rb") as f:
                exported = sum(1 for _ in f) - int(trained.get("anchors") or 0)
        variant = (trained.get("variant") or {}).get("name") or summary.get("variant") or "-"
        metrics = trained.get("metrics") or {}
        child = (report.get("diffs") or {}).get("child", {})
        findings = list(report.get("findings") or [])
        state = ("done" if summary else "evaluated" if report else "trained" if trained
                 else "training" if exported is not None else "exporting")
        rows.append({
            "generation": int(d.name[3:]), "checkpoint": variant, "state": state,
            "pairs": f"{'-' if exported is None else exported}/{trained.get('pairs_used', '-')}",
            "training": (f"{trained['steps']} {metrics['train_loss']:.3f}" if "steps" in trained and "train_loss" in metrics
                         else "-"),
            "lift": _interval(child.get(LIFT)),
            "vs control": _interval((report.get("diffs") or {}).get("child-control", {}).get(LIFT)),
            "flag": "REGRESSION" if any(f.startswith("REGRESSION") for f in findings) else "",
            "minutes": f"{summary['seconds'] / 60:.1f}" if "seconds" in summary else "-",
            "findings": findings,
        })
    return rows


def find_loop(root: Path, preferred: Path) -> Path:
    """The loop run directory to watch: the one the form names if it exists (a loop launched there
    is still playing its first tournament), else the first run directory below root with
    generations, else the form's."""
    from arena.cli.dash.data import find_runs
    if preferred.is_dir():
        return preferred
    return next((r for r in find_runs(root) if (r / "loop").is_dir()), preferred)


@functools.lru_cache(maxsize=1)
def _parser() -> argparse.ArgumentParser:
    from arena.cli import build_parser
    return build_parser()


def parse(argv: list[str]) -> argparse.Namespace:
    """`arena loop ARGV` read by the command's own parser and checked by its own range checks;
    the command's one-line refusal as a UserError."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = _parser().parse_args(["loop", *argv])
    except SystemExit:
        raise UserError(err.getvalue().strip().removeprefix("arena: ").split(" (see ")[0]) from None
    from arena.cli.train import _train_overrides
    _train_overrides(args)
    # The checks `arena loop` makes after parsing (arena/cli/train.py cmd_loop, arena/training/loop.py).
    for ok, message in ((args.iterations >= 1, "--iterations must be >= 1"),
                        (args.eval_rounds is None or args.eval_rounds >= 1, "--eval-rounds must be >= 1"),
                        (args.eval_tasks is None or args.eval_tasks >= 0, "--eval-tasks must be >= 0 (0 skips the evaluation)"),
                        (args.anchor_ratio is None or args.anchor_ratio >= 0, "--anchor-ratio must be >= 0"),
                        (args.mix_ratio >= 0, "--mix-ratio must be >= 0"),
                        (args.min_margin >= 0, "--min-margin must be >= 0")):
        if not ok:
            raise UserError(message)
    return args


def extra_error(text: str) -> str | None:
    """The command's refusal of the free-form flags, or None."""
    import shlex
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        return f"cannot read the flags: {exc}"
    if any(a in ("-h", "--help") for a in argv):
        return "--help is for the command line (arena loop --help)"
    try:
        parse(argv)
    except UserError as exc:
        return str(exc)
    return None


def field_error(flag: str, value: str) -> str | None:
    """The command's refusal of this one option's value, or None (empty: the default)."""
    if not value.strip():
        return None
    try:
        parse([flag, value.strip()])
    except UserError as exc:
        return str(exc)
    return None
