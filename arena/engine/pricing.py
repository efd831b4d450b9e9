"""What a call costs: US dollars per million input / output tokens.

The built-in table is a snapshot of public list prices of common hosted models; a
variant overrides it with `price_in` / `price_out` (USD per million tokens) or points
at a TOML price file with `price_file`:

    ["openai/gpt-4o"]
    input = 2.5
    output = 10.0

Model ids match by longest prefix, so dated snapshots ("gpt-4o-2024-08-06") find
their family ("gpt-4o"). Local and scripted models cost nothing. A hosted model with
no known price is reported as unpriced (cost 0), never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass

from arena.records import Variant
from arena.schema import PriceError, price_options, read_price_file

__all__ = ["BUILTIN", "FREE", "Price", "PriceError", "lookup", "price_for"]

FREE_PROVIDERS = ("local", "mock")


@dataclass(frozen=True)
class Price:
    input: float  # USD per million input tokens
    output: float  # USD per million output tokens

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


FREE = Price(0.0, 0.0)

# provider/model prefix -> (input, output) USD per million tokens.
BUILTIN: dict[str, tuple[float, float]] = {
    "openai/gpt-5": (1.25, 10.0),
    "openai/gpt-5-mini": (0.25, 2.0),
    "openai/gpt-5-nano": (0.05, 0.40),
    "openai/gpt-4.1": (2.0, 8.0),
    "openai/gpt-4.1-mini": (0.40, 1.60),
    "openai/gpt-4.1-nano": (0.10, 0.40),
    "openai/gpt-4o": (2.50, 10.0),
    "openai/gpt-4o-mini": (0.15, 0.60),
    "openai/gpt-4-turbo": (10.0, 30.0),
    "openai/gpt-3.5-turbo": (0.50, 1.50),
    "openai/o1": (15.0, 60.0),
    "openai/o1-mini": (1.10, 4.40),
    "openai/o3": (2.0, 8.0),
    "openai/o3-mini": (1.10, 4.40),
    "openai/o4-mini": (1.10, 4.40),
    "anthropic/claude-opus-4-5": (5.0, 25.0),
    "anthropic/claude-opus-4-1": (15.0, 75.0),
    "anthropic/claude-opus-4": (15.0, 75.0),
    "anthropic/claude-sonnet-4-5": (3.0, 15.0),
    "anthropic/claude-sonnet-4": (3.0, 15.0),
    "anthropic/claude-haiku-4-5": (1.0, 5.0),
    "anthropic/claude-3-7-sonnet": (3.0, 15.0),
    "anthropic/claude-3-5-sonnet": (3.0, 15.0),
    "anthropic/claude-3-5-haiku": (0.80, 4.0),
    "anthropic/claude-3-opus": (15.0, 75.0),
    "anthropic/claude-3-haiku": (0.25, 1.25),
}


def lookup(model: str, table: dict[str, tuple[float, float]] | None = None) -> Price | None:
    """Longest-prefix match of a full model name ("openai/gpt-4o-2024-08-06")."""
    table = BUILTIN if table is None else table
    best = None
    for prefix in table:
        if model == prefix or model.startswith(prefix + "-") or model.startswith(prefix + "@"):
            if best is None or len(prefix) > len(best):
                best = prefix
    return Price(*table[best]) if best is not None else None


def price_for(variant: Variant) -> Price | None:
    """The variant's price, or None when nobody knows it (a hosted model not in any table)."""
    opts = price_options(variant.options, variant.name)  # the schema of the price keys: arena/schema.py
    if opts.price_in is not None or opts.price_out is not None:
        return Price(opts.price_in or 0.0, opts.price_out or 0.0)
    if opts.price_file:
        found = lookup(variant.model, read_price_file(opts.price_file))
        if found is not None:
            return found
    if variant.provider in FREE_PROVIDERS:
        return FREE
    return lookup(variant.model)
