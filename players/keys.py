"""API keys: where they come from, and making sure they go nowhere else.

A key is read from the environment (the provider's variable, or the one a variant
names with `api_key_env`), or, discouraged, from a literal `api_key` in the config.
Every key value we resolve is remembered in memory only, so `scrub()` can remove it
from any text (provider error messages echo keys) before that text is raised, logged
or stored.
"""
from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

from arena.config import ConfigError
from arena.records import Variant

PLACEHOLDER_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key
_SECRETS: set[str] = set()
# Things that look like credentials even if we never saw them (masked echoes, headers).
_PATTERNS = (
    re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_*.\-]{6,}"),
    re.compile(r"(?i)\b(bearer)\s+[^\s'\",}]+"),
    re.compile(r"(?i)(x-api-key|api[_-]?key|authorization)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
)


class MissingKey(ConfigError):
    """No API key for a variant that needs one; names the variable to set."""


def env_var_for(service: str) -> str:
    """`<SERVICE>_API_KEY`, upper-cased with anything not alphanumeric turned into `_`."""
    return re.sub(r"[^A-Za-z0-9]", "_", service).upper() + "_API_KEY"


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
URL_OPTIONS = ("base_url", "base_urls")


def key_source(variant: Variant, default_env: str) -> str:
    """The environment variable a variant's key is read from."""
    name = variant.options.get("api_key_env", default_env)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"variant {variant.name!r}: api_key_env must name an environment variable")
    if not _ENV_NAME.fullmatch(name.strip()):
        # Most likely the key itself pasted in: remembered so it is scrubbed, and never echoed.
        remember(name.strip())
        raise ConfigError(f"variant {variant.name!r}: api_key_env must be the NAME of an environment variable "
                          "(letters, digits, _), like MY_SERVICE_API_KEY; the value given is not one "
                          "(not shown: if it is a key, set it in that variable instead)")
    return name.strip()


def has_credentials(url: str) -> bool:
    """Whether a URL carries user:password@ (or user@) before its host."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "@" in url
    return "@" in parts.netloc


def refuse_url_credentials(variant: Variant, env_urls: dict[str, str] | None = None) -> None:
    """A base URL carrying credentials is refused when the config is read, before any other check
    could echo it: they would be sent in clear with every request, and every call would fail on them.
    `env_urls` are URLs read from environment variables, by variable name."""
    found: list[tuple[str, str]] = []
    for key in URL_OPTIONS:
        value = variant.options.get(key)
        for url in value if isinstance(value, list) else [value]:
            if isinstance(url, str) and has_credentials(url):
                found.append((key, url))
    for env, url in (env_urls or {}).items():
        if has_credentials(url):
            found.append((env, url))
    for where, url in found:
        user, _, password = url.strip().partition("://")[2].rpartition("@")[0].partition(":")
        remember(password or user)  # the password (or a token given as the user) is scrubbed anywhere
        try:
            shown = redact_url(url)
        except ValueError:  # e.g. a port out of range
            shown = "the URL"
        raise ConfigError(f"variant {variant.name!r}: {where} carries credentials (user:password@); they are not "
                          f"sent this way: give the URL without them ({shown}) and the key with "
                          "api_key_env = \"VARIABLE\"")


def resolve_key(variant: Variant, default_env: str, *, required: bool = True) -> str | None:
    """The key value, or None when not required and not set. Raises MissingKey."""
    literal = variant.options.get("api_key")
    if literal is not None:
        if not isinstance(literal, str) or not literal:
            raise ConfigError(f"variant {variant.name!r}: api_key must be a non-empty string "
                              "(better: api_key_env = \"VARIABLE\")")
        remember(literal)
        return literal
    env = key_source(variant, default_env)
    value = os.environ.get(env, "").strip()
    if value:
        remember(value)
        return value
    if required:
        raise MissingKey(f"variant {variant.name!r} ({variant.model}): no API key; set the environment "
                         f"variable {env} (or name another one with api_key_env = \"...\" in the variant)")
    return None


def remember(secret: str) -> None:
    if len(secret) >= 4:
        _SECRETS.add(secret)


def redact_known(text: str) -> str:
    """`text` with every key resolved in this process replaced by ***. Cheap enough for every
    model answer: a server that reflects the caller's key into its answer must not get it stored."""
    if not _SECRETS:
        return text
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text


def scrub(text: str) -> str:
    """`text` with every known key and anything key-shaped replaced by ***."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _PATTERNS[0].sub("***", text)
    text = _PATTERNS[1].sub(lambda m: m.group(1) + " ***", text)
    return _PATTERNS[2].sub(lambda m: m.group(1) + m.group(2) + "***", text)


def redact_url(url: str) -> str:
    """A URL fit for display and ids: no user:password@, no query string."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


def is_local_url(url: str) -> bool:
    """Loopback, private-network or single-label hosts: self-hosted servers that need no key."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or host.endswith((".localhost", ".local", ".internal")) or "." not in host
    return ip.is_loopback or ip.is_private or ip.is_link_local
