"""Interlacing arena pairs with the user's ordinary data, so that training on open-ended
tasks does not erase baseline skills.

The mix file is JSONL. Accepted rows:

- preference rows, used as they are: `prompt` + `chosen` + `rejected`, either as strings
  (standard format) or as message lists (conversational), or `chosen` + `rejected` full
  conversations without `prompt` (their common beginning becomes the prompt);
- instruction rows (`prompt`/`instruction` [+ `input`] and `response`/`output`/`completion`)
  have no rejected answer, which a DPO file needs. They are refused with a clear message,
  unless a variant is named to answer them (`--mix-rejected VARIANT`): its answer becomes
  `rejected` and the reference response `chosen`, as in self-play fine-tuning (SPIN),
  which pulls the model towards the reference data it should not forget.

Everything is converted to the conversational format, since TRL wants one format per file.
"""
from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

from arena.errors import UserError
from arena.records import Messages
from arena.training.diversity import same_text

MIX_META = {"family": "mix", "role": "mix", "criterion": None, "match_id": None, "chosen_variant": None,
            "rejected_variant": None, "chosen_rank": None, "rejected_rank": None, "margin": None,
            "margin_kind": None, "rating_margin": None, "agreement": None, "tiebreak": None,
            "ranked_by": None, "chosen_score": None, "rejected_score": None, "chosen_verified": False,
            "unleashed": False}


def _messages(value: Any, default_role: str) -> Messages | None:
    if isinstance(value, str):
        return [{"role": default_role, "content": value}]
    if isinstance(value, list) and value and all(
            isinstance(m, dict) and isinstance(m.get("content"), str)
            and m.get("role") in ("system", "user", "assistant")
            for m in value):
        return [{"role": m["role"], "content": m["content"]} for m in value]
    return None


def _preference(row: dict[str, Any]) -> tuple[Messages, Messages, Messages] | None:
    chosen, rejected = row.get("chosen"), row.get("rejected")
    if "prompt" in row:
        prompt = _messages(row["prompt"], "user")
        c, r = _messages(chosen, "assistant"), _messages(rejected, "assistant")
        if prompt is None or c is None or r is None:
            return None
        return prompt, c, r
    c, r = _messages(chosen, "assistant"), _messages(rejected, "assistant")
    if c is None or r is None:
        return None
    n = 0  # implicit prompt: the shared beginning of the two conversations
    while n < min(len(c), len(r)) - 1 and c[n] == r[n]:
        n += 1
    if n == 0:
        return None
    return c[:n], c[n:], r[n:]


def _instruction(row: dict[str, Any]) -> tuple[str, str] | None:
    prompt = row.get("instruction", row.get("prompt"))
    answer = row.get("response", row.get("output", row.get("completion")))
    if not isinstance(prompt, str) or not isinstance(answer, str) or not prompt.strip() or not answer.strip():
        return None
    extra = row.get("input")
    if isinstance(extra, str) and extra.strip():
        prompt = f"{prompt}\n\n{extra}"
    return prompt, answer


def _same(a: Messages, b: Messages) -> bool:
    return len(a) == len(b) and all(same_text(x["content"], y["content"]) for x, y in zip(a, b))


def load_mix(path: str | Path, answer_with: str | None = None, variants: dict[str, Any] | None = None,
             seed: int = 0) -> list[dict[str, Any]]:
    """Mix rows in the export's format. Raises UserError naming the first bad line."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"mix file not found: {p}")
    rows: list[dict[str, Any]] = []
    instructions: list[tuple[int, str, str]] = []
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise UserError(f"{p}: not UTF-8 text") from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{p}:{no}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise UserError(f"{p}:{no}: each line must be a JSON object")
        if "chosen" in row or "rejected" in row:
            pref = _preference(row)
            if pref is None:
                raise UserError(f"{p}:{no}: a preference row needs prompt, chosen and rejected as strings or "
                                f"lists of {{role, content}} messages")
            prompt, c, r = pref
            if not _same(c, r):
                rows.append({"prompt": prompt, "chosen": c, "rejected": r, **MIX_META, "source": p.name})
            continue
        ins = _instruction(row)
        if ins is None:
            raise UserError(f"{p}:{no}: neither a preference row (prompt/chosen/rejected) nor an instruction row "
                            f"(prompt or instruction, with response or output)")
        instructions.append((no, *ins))
    if instructions:
        if not answer_with:
            raise UserError(f"{p}: {len(instructions)} instruction row(s) (first on line {instructions[0][0]}) have no "
                            f"rejected answer, which DPO needs; pass --mix-rejected VARIANT to have a variant answer "
                            f"them (its answer becomes 'rejected', the reference 'chosen'), or give them "
                            f"prompt/chosen/rejected")
        rows += asyncio.run(_answer(instructions, answer_with, variants or {}, seed, p.name))
    if not rows:
        raise UserError(f"{p}: no usable rows")
    return rows


async def _answer(instructions: list[tuple[int, str, str]], variant: str, variants: dict[str, Any],
                  seed: int, source: str) -> list[dict[str, Any]]:
    from arena.config import BUILTIN_VARIANTS
    from arena.engine.gateway import CallFailed, Gateway
    known = {**BUILTIN_VARIANTS, **variants}
    if variant not in known:
        raise UserError(f"--mix-rejected: unknown variant {variant!r} (known: {', '.join(sorted(known))})")
    gw = Gateway({variant: known[variant]})
    out = []
    try:
        async def one(i: int, prompt: str, answer: str) -> dict[str, Any] | None:
            try:
                got = await gw.ask(variant, "player", [{"role": "user", "content": prompt}], match_id="mix",
                                   seed=seed * 100_003 + i)
            except CallFailed:
                return None
            if same_text(got.text, answer):
                return None  # the model already answers like the reference: nothing to prefer
            return {"prompt": [{"role": "user", "content": prompt}],
                    "chosen": [{"role": "assistant", "content": answer}],
                    "rejected": [{"role": "assistant", "content": got.text}],
                    **MIX_META, "rejected_variant": variant, "source": source}
        results = await asyncio.gather(*(one(i, pr, ans) for i, (_, pr, ans) in enumerate(instructions)))
        out = [r for r in results if r is not None]
    finally:
        await gw.aclose()
    return out


def interlace(pairs: list[dict[str, Any]], mix: list[dict[str, Any]], ratio: float,
              seed: int = 0) -> tuple[list[dict[str, Any]], int]:
    """`ratio` mix rows per arena pair (sampled with `seed`), spread evenly among the pairs.
    With no arena pairs, the mix rows alone would be pointless: none are added."""
    if not pairs or ratio <= 0 or not mix:
        return pairs, 0
    want = min(len(mix), max(1, round(ratio * len(pairs))))
    chosen = random.Random(seed).sample(mix, want)
    keyed = [((i + 0.5) / len(pairs), 0, row) for i, row in enumerate(pairs)]
    keyed += [((j + 0.5) / want, 1, row) for j, row in enumerate(chosen)]
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [row for _, _, row in keyed], want
