"""Soft targets: each answer's win probability against the rest of its ranked set.

Beside binary pairs, the whole ranking as a target, as SPPO uses it: for a set of n answers to one
prompt, answer i's target is the share of the other n - 1 it beats, a tie counting half (so the
targets of a set average 0.5). One row per ranked set:

    {"prompt": [...messages], "responses": [{"content", "win_rate", "variant", "rank", "score",
     "verified"}, ...], "family", "role", "criterion", "match_id", "ranked_by", "unleashed", "source"}

Only answers to the set's own prompt are in a row (a re-prompted chess move answered another
conversation: it stays a binary pair of the DPO export). The same sets are skipped as there:
not exportable, fewer than two answers, all tied, or without a usable prompt.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.errors import UserError
from arena.files import output_path, text_output
from arena.records import ROLES, RankedSet
from arena.training.export import (
    ExportOptions,
    Unleashed,
    normalize_prompt,
    stored_family_settings,
    tournament_matches,
)


@dataclass
class SoftStats:
    sets: int = 0  # rows written
    responses: int = 0
    by_role: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        roles = ", ".join(f"{r} {n}" for r, n in sorted(self.by_role.items())) or "none"
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) or "nothing"
        return f"{self.sets} ranked sets, {self.responses} answers\n  roles: {roles}\n  skipped: {skipped}"


def win_rates(ranks: list[int]) -> list[float]:
    """Per answer, the share of the others it beats (lower rank is better; a tie counts half)."""
    n = len(ranks)
    if n < 2:
        return [0.5] * n
    return [sum(1.0 if r < o else 0.5 if r == o else 0.0 for j, o in enumerate(ranks) if j != i) / (n - 1)
            for i, r in enumerate(ranks)]


def soft_row(rs: RankedSet, *, family: str, match_id: str, unleashed: bool, skipped: Counter) -> dict[str, Any] | None:
    if not rs.exportable:
        skipped["sets not exportable (whole games or transcripts)"] += 1
        return None
    entries = [e for e in rs.entries if isinstance(e.text, str) and e.text.strip()
               and (e.prompt is None or e.prompt == rs.prompt)]
    if len(entries) < 2:
        skipped["sets with fewer than 2 answers to their prompt"] += 1
        return None
    if len({e.rank for e in entries}) < 2:
        skipped["all-tied sets"] += 1
        return None
    prompt = normalize_prompt(rs.prompt, unleashed)
    if prompt is None:
        skipped["sets without a usable prompt"] += 1
        return None
    rates = win_rates([e.rank for e in entries])
    return {
        "prompt": prompt,
        "responses": [{"content": e.text, "win_rate": round(p, 6), "variant": e.variant, "rank": int(e.rank),
                       "score": e.score, "verified": e.verified is True} for e, p in zip(entries, rates)],
        "family": family, "role": rs.role, "criterion": rs.criterion, "match_id": match_id,
        "ranked_by": rs.ranked_by or None, "unleashed": unleashed, "source": "arena",
    }


def iter_soft(store: Any, opts: ExportOptions, stats: SoftStats) -> Iterator[dict[str, Any]]:
    stored_unleashed, fam_options = stored_family_settings(store)
    is_unleashed = Unleashed({**stored_unleashed, **opts.unleashed}, fam_options)
    only = tournament_matches(store, opts.tournament_id) if opts.tournament_id else None
    for match_id, family, rs in store.iter_ranked_sets():
        if only is not None and match_id not in only:
            continue
        if opts.roles and rs.role not in opts.roles or opts.families and family not in opts.families:
            continue
        row = soft_row(rs, family=family, match_id=match_id,
                       unleashed=is_unleashed(family) if rs.exportable else False, skipped=stats.skipped)
        if row is None:
            continue
        stats.sets += 1
        stats.responses += len(row["responses"])
        stats.by_role[rs.role] += 1
        yield row


def export_soft(run_dir: str | Path, out: str | Path, opts: ExportOptions | None = None) -> SoftStats:
    """Write one soft-target row per ranked set of the run in `run_dir` to `out` (JSONL, `-`: stdout)."""
    from arena.engine.store import Store
    opts = opts or ExportOptions()
    bad_roles = set(opts.roles) - set(ROLES)
    if bad_roles:
        raise UserError(f"unknown role {sorted(bad_roles)[0]!r} (known: {', '.join(ROLES)})")
    out = output_path(out)
    if not out.parent.is_dir():
        raise UserError(f"output directory not found: {out.parent}")
    if not Path(run_dir).is_dir():
        raise UserError(f"run directory not found: {run_dir}")
    store = Store(run_dir, create=False)
    stats = SoftStats()
    try:
        with text_output(out) as fh:
            for row in iter_soft(store, opts, stats):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        store.close()
    return stats
