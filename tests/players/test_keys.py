"""API keys: read from the environment or config, checked before any match, sent only
over the wire, scrubbed from every error."""
from __future__ import annotations

import pytest

from arena.config import ConfigError, parse_config
from arena.engine.gateway import Gateway
from arena.engine.runner import run
from arena.errors import describe
from arena.records import Variant
from players.keys import MissingKey, env_var_for, is_local_url, scrub
from players.registry import check_variant, create_backend
from tests.players.wire import ask, compat, fast_retry
from tests.players.wire import run as arun
from tests.support.fault_server import FaultServer


@pytest.fixture(autouse=True)
def no_keys(monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TOGETHER_AI_API_KEY", "MY_KEY", "FAULT_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("model,options,variable", [
    ("openai/gpt-4o-mini", {}, "OPENAI_API_KEY"),
    ("anthropic/claude-haiku-4-5", {}, "ANTHROPIC_API_KEY"),
    ("openai-api/together-ai/meta-llama/Llama-3-8b", {"base_url": "https://api.together.xyz/v1"}, "TOGETHER_AI_API_KEY"),
    ("openai/gpt-4o-mini", {"api_key_env": "MY_KEY"}, "MY_KEY"),
])
def test_a_missing_key_is_one_clear_error_naming_the_variable(model, options, variable):
    with pytest.raises(MissingKey) as info:
        check_variant(Variant("v", model, options=options))
    line, code = describe(info.value)
    assert variable in line and "'v'" in line and code == 2 and "\n" not in line


def test_a_missing_key_stops_the_tournament_before_any_match(tmp_path):
    cfg = parse_config({"tournament": {"players": ["gpt", "random"]},
                        "variants": [{"name": "gpt", "model": "openai/gpt-4o-mini"}]})
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        run(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing was started


def test_keys_come_from_the_environment_or_the_named_variable(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-123456")
    check_variant(Variant("v", "openai/gpt-4o-mini"))
    monkeypatch.setenv("MY_KEY", "sk-other-123456")
    check_variant(Variant("v", "anthropic/claude-haiku-4-5", options={"api_key_env": "MY_KEY"}))
    assert env_var_for("together.ai") == "TOGETHER_AI_API_KEY"


def test_a_server_on_this_machine_or_network_needs_no_key():
    check_variant(Variant("v", "openai-api/llamacpp/any", options={"base_url": "http://127.0.0.1:8080/v1"}))
    check_variant(Variant("v", "openai-api/vllm/m", options={"base_urls": ["http://gpu1:8000/v1", "http://10.0.0.7:8000/v1"]}))
    assert is_local_url("http://localhost:11434/v1") and is_local_url("http://[::1]:8000/v1")
    assert not is_local_url("https://api.together.xyz/v1") and not is_local_url("http://8.8.8.8/v1")


def test_the_key_goes_over_the_wire_and_no_header_when_there_is_none(monkeypatch):
    monkeypatch.setenv("FAULT_API_KEY", "sk-wire-test-abcdef")

    async def go():
        async with FaultServer() as srv:
            gw = Gateway({"with": compat("with", srv.openai_url),
                          "without": compat("without", srv.openai_url, api_key_env="UNSET_VARIABLE_X")},
                         retry=fast_retry())
            await ask(gw, "with")
            await ask(gw, "without")
            await gw.aclose()
            return [h.get("authorization") for h in srv.headers]

    assert arun(go()) == ["Bearer sk-wire-test-abcdef", None]


def test_a_backend_never_shows_its_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-hidden-987654321")
    backend = create_backend(Variant("v", "openai/gpt-4o-mini"))
    assert "987654321" not in repr(backend) and "987654321" not in backend.key


def test_scrub_removes_known_keys_and_key_shaped_text(monkeypatch):
    monkeypatch.setenv("MY_KEY", "plainsecretvalue42")
    check_variant(Variant("v", "openai/gpt-4o", options={"api_key_env": "MY_KEY"}))  # remembers the value
    text = ("Incorrect API key provided: plainsecretvalue42. Also sk-proj-abc123def456 and "
            "Authorization: Bearer tok_live_123 and {'api_key': 'zzz-999-yyy'}")
    clean = scrub(text)
    for leaked in ("plainsecretvalue42", "abc123def456", "tok_live_123", "zzz-999-yyy"):
        assert leaked not in clean
    assert "Incorrect API key provided" in clean


def test_a_misspelt_or_malformed_option_is_refused_before_any_match():
    with pytest.raises(ConfigError, match="unknown option.*base_ur.*known:.*base_url"):
        check_variant(Variant("v", "openai-api/s/m", options={"base_ur": "http://localhost:1/v1"}))
    with pytest.raises(ConfigError, match="timeout"):
        check_variant(Variant("v", "openai-api/s/m", options={"base_url": "http://localhost:1/v1", "timeout": -1}))
    with pytest.raises(ConfigError, match="max_connections"):
        check_variant(Variant("v", "openai-api/s/m", options={"base_url": "http://localhost:1/v1",
                                                              "max_connections": 0}))
