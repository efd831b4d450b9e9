"""Model names -> backends, imported lazily so a missing optional SDK only matters
when a variant actually uses it. A new backend is one module plus one line here."""
from __future__ import annotations

import importlib

from arena.records import Variant
from players.base import Backend

PROVIDERS: dict[str, str] = {
    "local": "players.local:create",
    "mock": "players.mock:create",
    "openai": "players.openai_backend:create",
    "openai-api": "players.openai_backend:create_compatible",
    "anthropic": "players.anthropic_backend:create",
}


class UnknownProvider(ValueError):
    pass


def provider_of(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else ""


def create_backend(variant: Variant) -> Backend:
    provider = provider_of(variant.model)
    target = PROVIDERS.get(provider)
    if target is None:
        known = ", ".join(sorted(p + "/..." for p in PROVIDERS))
        raise UnknownProvider(f"variant {variant.name!r}: unknown model {variant.model!r} (known: {known})")
    module_name, func = target.split(":")
    module = importlib.import_module(module_name)
    return getattr(module, func)(variant)


def check_variant(variant: Variant) -> None:
    """Raise a clear error before any match starts (unknown provider, missing key...)."""
    provider = provider_of(variant.model)
    if provider not in PROVIDERS:
        create_backend(variant)  # raises UnknownProvider with the list of known ones
    module_name, _ = PROVIDERS[provider].split(":")
    module = importlib.import_module(module_name)
    check = getattr(module, "check", None)
    if check is not None:
        check(variant)
