"""Two tiny families the benchmarks drive through the real runner.

They exist so a benchmark measures the engine (schedule, gateway, store, ratings, export)
and not a family's own work. `register()` makes them findable in the benchmark's process only,
through the same entry points an installed third-party family uses; they are not product families.

- bench-echo (1 seat): one call with a prompt from a fixed list, a trivial scorer. N rounds
  x M players = N*M matches of one call each: the "N samples x M models" workload.
- bench-pair (2 seats): both seats answer the same prompt from a closed set of choices; the
  answer's position in the set ranks them, so every match moves ratings and yields a pair.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.engine.family import family_options
from arena.records import PLAYER, Entry, MatchResult, RankedSet
from arena.schema import Schema, setting

PROMPTS = (
    "Write one sentence about the sea.",
    "Name three uses for a paperclip.",
    "Describe a sunrise to someone who has never seen one.",
    "Explain in two sentences why the sky is blue.",
    "Give a short tip for learning a new language.",
    "Write a haiku about autumn leaves.",
    "What makes a good friend? Answer briefly.",
    "Summarise the rules of tic-tac-toe in one sentence.",
    "Suggest a name for a small bakery and say why.",
    "Describe the smell of rain in one sentence.",
    "List two benefits of walking every day.",
    "Write a one-line story about a lost key.",
)
CHOICES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot")


@dataclass
class EchoFamily:
    max_tokens: int = 16
    name: str = "bench-echo"
    seats: int = 1
    open_ended: bool = False

    async def play(self, ctx) -> MatchResult:
        prompt = [{"role": "user", "content": f"{PROMPTS[ctx.match.round % len(PROMPTS)]} (#{ctx.match.round})"}]
        completion = await ctx.ask(ctx.seats[0], PLAYER, prompt, max_tokens=self.max_tokens)
        entry = Entry(ctx.seats[0], completion.text, 0, 1.0 if completion.text else 0.0, 0)
        return MatchResult([RankedSet(PLAYER, prompt, [entry])], summary=f"{completion.output_tokens} tokens")


@dataclass
class PairFamily:
    name: str = "bench-pair"
    seats: int = 2
    open_ended: bool = False

    async def play(self, ctx) -> MatchResult:
        prompt = [{"role": "user", "content": f"Pick a word for match {ctx.match.seq}. "
                                              f"({PROMPTS[ctx.match.round % len(PROMPTS)]})"}]
        texts = [(await ctx.ask(v, PLAYER, prompt, choices=CHOICES)).text for v in ctx.seats]
        order = sorted({CHOICES.index(t) if t in CHOICES else len(CHOICES) for t in texts})
        entries = [Entry(v, t, order.index(CHOICES.index(t) if t in CHOICES else len(CHOICES)), None, s)
                   for s, (v, t) in enumerate(zip(ctx.seats, texts, strict=True))]
        return MatchResult([RankedSet(PLAYER, prompt, entries)], summary=" vs ".join(texts))


class EchoOptions(Schema):
    """[families.bench-echo]"""
    max_tokens: int = setting(16, ge=1)


class PairOptions(Schema):
    """[families.bench-pair]: no options."""


def create_echo(options: dict[str, Any]) -> EchoFamily:
    return EchoFamily(max_tokens=family_options(EchoOptions, options, "bench-echo").max_tokens)


def create_pair(options: dict[str, Any]) -> PairFamily:
    family_options(PairOptions, options, "bench-pair")
    return PairFamily()


PLUGINS = str(Path(__file__).parent / "plugins")  # holds arena_bench-0.dist-info: its entry points name the families


def register() -> None:
    """Make the two families findable through the `arena.families` entry points, the door any installed
    package uses: the distribution's metadata is put on the path, as installing it would."""
    from arena import plugins
    if PLUGINS not in sys.path:
        sys.path.append(PLUGINS)
        plugins.registered.cache_clear()
