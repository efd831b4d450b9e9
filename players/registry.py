"""Model names -> backends, found through the `arena.players` entry points (the built-ins are
registered in pyproject.toml like any third-party backend). A new backend is one module plus one
entry point; its module is imported only when a variant uses it."""
from __future__ import annotations

from arena import plugins
from arena.config import variant_options
from arena.records import Variant
from players.base import Backend

UnknownProvider = plugins.UnknownPlugin


def provider_of(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else ""


def _known() -> str:
    return ", ".join(p + "/..." for p in plugins.names(plugins.PLAYERS))


def _factory(variant: Variant):
    provider = provider_of(variant.model)
    if provider not in plugins.registered(plugins.PLAYERS):
        raise UnknownProvider(f"variant {variant.name!r}: unknown model {variant.model!r} (known: {_known()})")
    return plugins.load(plugins.PLAYERS, provider, "model provider")


def create_backend(variant: Variant) -> Backend:
    return _factory(variant)(variant)


def check_variant(variant: Variant) -> None:
    """Raise a clear error before any match starts (unknown provider, missing key...)."""
    _factory(variant)
    module = plugins.module_of(plugins.PLAYERS, provider_of(variant.model), "model provider")
    check = getattr(module, "check", None)
    if check is not None:
        check(variant)


def check_options(variant: Variant) -> None:
    """Only the variant's options, against its backend's `OPTIONS` schema (no keys, files or servers):
    for a variant the config declares but this tournament does not use, so a typo is found now."""
    _factory(variant)
    schema = getattr(plugins.module_of(plugins.PLAYERS, provider_of(variant.model), "model provider"), "OPTIONS", None)
    if schema is not None:
        variant_options(variant, schema)
