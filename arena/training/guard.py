"""The forgetting guard's anchor pairs: the parent's own good answers to ordinary questions.

Training a small model on arena pairs alone erases baseline skills (issue 13's probe: ordinary
questions 62% -> 35% after one pass). An anchor pair replays what the parent already does well:
on a question of the ordinary "train" split (never the held-out one), the parent's own correct
answer is chosen over its own wrong sample, or, where every sample was right, over its answer to
another question (off-task). Nothing here is written by a person or a bigger model: the chosen
texts are the parent's, so the anchors pull towards keeping the parent, not towards imitation.

Each question is asked ASKS times (greedy, then sampled at SAMPLE_TEMPERATURE with fixed seeds),
through the engine's gateway with the run's response cache.
"""
from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from arena.records import SamplingParams, Variant
from arena.training.ordinary import OrdinaryItem, split
from arena.training.train import ANCHOR

ANCHOR_RATIO = 0.5  # anchor pairs per arena pair trained on (issue 13's probe: 60 per 120 held ordinary level)
ASKS = 3
SAMPLE_TEMPERATURE = 0.8
MAX_TOKENS = 40


def _pair(item: OrdinaryItem, chosen: str, rejected: str, variant: str, kind: str) -> dict[str, Any]:
    from arena.training.mix import MIX_META
    return {"prompt": [{"role": "user", "content": item.prompt}],
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
            **MIX_META, "family": ANCHOR, "role": "player", "criterion": kind, "chosen_variant": variant,
            "rejected_variant": variant, "chosen_verified": True, "source": f"ordinary:{item.id}"}


def pairs_from_answers(items: list[OrdinaryItem], answers: list[list[str]], variant: str,
                       n: int) -> list[dict[str, Any]]:
    """At most n anchor pairs from each item's answers (first the parent's right-over-wrong, then
    right-over-off-task), the shortest right answer chosen."""
    wrong_pairs, off_task = [], []
    for i, (item, texts) in enumerate(zip(items, answers)):
        right = sorted({t for t in texts if item.correct(t)}, key=len)
        wrong = [t for t in texts if t.strip() and not item.correct(t)]
        if not right:
            continue  # the parent cannot do it either: nothing of its own to keep
        if wrong:
            wrong_pairs.append(_pair(item, right[0], wrong[0], variant, "own wrong answer"))
            continue
        other = items[(i + 1) % len(items)]
        stray = next((t for t in answers[(i + 1) % len(items)] if t.strip() and not item.correct(t)), None)
        if stray is not None and other is not item:
            off_task.append(_pair(item, right[0], stray, variant, "off-task answer"))
    return (wrong_pairs + off_task)[:n]


async def _ask(parent: Variant, items: list[OrdinaryItem], cache: Path | None, seed: int) -> list[list[str]]:
    from arena.engine.cache import ResponseCache
    from arena.engine.gateway import Gateway
    from arena.training.evaluate import fingerprint
    greedy = Variant("anchor@greedy", parent.model, SamplingParams(temperature=0.0, max_tokens=MAX_TOKENS),
                     parent.system, parent.adapter)
    sampled = Variant("anchor@sampled", parent.model,
                      SamplingParams(temperature=SAMPLE_TEMPERATURE, max_tokens=MAX_TOKENS), parent.system,
                      parent.adapter)
    gw = Gateway({greedy.name: greedy, sampled.name: sampled}, calls_per_model=1,
                 cache=ResponseCache(cache) if cache else None)
    role = f"anchor:{fingerprint(parent)}"

    async def one(item: OrdinaryItem, k: int) -> str:
        s = int(hashlib.sha256(f"anchor|{seed}|{item.id}|{k}".encode()).hexdigest()[:8], 16)
        got = await gw.ask(greedy.name if k == 0 else sampled.name, role,
                           [{"role": "user", "content": item.prompt}], match_id=f"anchor-{item.id}", seed=s)
        return got.text
    try:
        texts = await asyncio.gather(*(one(item, k) for item in items for k in range(ASKS)))
    finally:
        await gw.aclose()
    return [list(texts[i * ASKS:(i + 1) * ASKS]) for i in range(len(items))]


def anchor_pairs(parent: Variant, n: int, cache: Path | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """Up to n anchor pairs from the parent, asking 1.5 x n questions of the train split (some yield none)."""
    if n <= 0:
        return []
    items = split("train", min(len(split("train")), n + n // 2 + 1))
    answers = asyncio.run(_ask(parent, items, cache, seed))
    return pairs_from_answers(items, answers, parent.name, n)
