"""The stock: programs a predict-output match plays that no author wrote. The fallback when nothing
was admitted, and the top-up that brings a match to its `programs`, so the author calls and the
match's set-up buy more verified predictions.

Generated programs (predict_output/generator.py, always from the training side of its seed space)
or, with fallback = "builtin", the built-in set. A stocked program goes through the sandbox like
any other before it is played: its real output is whatever Python prints.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from tournaments.families.predict_output import generator
from tournaments.families.predict_output.gate import Program, admit, run_twice
from tournaments.families.predict_output.programs import BUILTIN_PROGRAMS

STOCK_TIMEOUT_S = 5.0  # the stock's programs are trusted to be quick; a loaded machine may be slow


@dataclass
class Stocked:
    """A stocked program before the sandbox has run it."""

    question: str
    code: str
    source: str  # "generated:tier<t>:<seed>" or "builtin:<n>"
    tier: int | None  # None: built-in


def builtin(entry: tuple[str, str]) -> Stocked:
    return Stocked(entry[0], entry[1], f"builtin:{BUILTIN_PROGRAMS.index(entry) + 1}", None)


def generated(match_seed: int, tier: int | str, center: float) -> Stocked:
    """The generated program `match_seed` draws, at the tier it picks (`tier`, or "auto" around `center`)."""
    t = generator.pick_tier(match_seed, tier, center)
    seed = generator.training_seed(match_seed)
    question, code = generator.generate(seed, t)
    return Stocked(question, code, f"generated:tier{t}:{seed}", t)


def extra(match_seed: int, j: int, kind: str, tier: int | str, center: float) -> Stocked:
    """The j-th (j >= 1) stocked draw of a match's top-up: from the match seed and j only, so a
    replay plays the same programs."""
    draw = random.Random(f"predict-output-program:{match_seed}:{j}")
    if kind == "builtin":
        return builtin(draw.choice(BUILTIN_PROGRAMS))
    return generated(draw.getrandbits(62), tier, center)


async def admit_stocked(stocked: Stocked, *, timeout_s: float, memory_mb: int) -> Program:
    timeout_s = max(timeout_s, STOCK_TIMEOUT_S)
    if stocked.tier is None:  # built-in: run twice like any program
        return await run_twice(stocked.question, stocked.code, timeout_s=timeout_s, memory_mb=memory_mb,
                               max_output=4000, author=None)
    # generated programs pass the gate by construction (tests run them all); run it anyway for the output
    return await admit(stocked.question, stocked.code, author=None, memory_mb=memory_mb, timeout_s=timeout_s)
