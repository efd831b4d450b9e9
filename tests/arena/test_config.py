"""One validation style for everything a user writes: a misspelt key, a wrong type or a meaningless
number is refused in every section and for every backend, as one line naming the section, the key
and the known keys; every missing API key is named at once."""
from __future__ import annotations

import tomllib

import pytest

from arena.cli import main
from arena.config import ConfigError, parse_config

PLAYERS = '[tournament]\nplayers = ["random", "x"]\n'


def run_config(tmp_path, capsys, text: str) -> str:
    """`arena run` on `text`: it must fail before any match with exit code 2 and one line on stderr."""
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text, encoding="utf-8")
    code = main(["run", str(cfg), "--run-dir", str(tmp_path / "run"), "--display", "none"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("arena: ") and "\n" not in err and "internal error" not in err, err
    assert not (tmp_path / "run" / "arena.sqlite").exists()  # refused before anything was stored
    return err


def parse(text: str):
    return parse_config(tomllib.loads(text), "bad.toml")


# -- a misspelt key, for every backend ------------------------------------------------------------------

BACKENDS = {
    "local": ('model = "local/smollm2-135m"', ["adapter", "temperature", "timeout"]),
    "mock": ('model = "mock/script"\nscript = ["a"]', ["latency_s", "script", "temperature"]),
    "openai": ('model = "openai/gpt-4o-mini"', ["api_key_env", "base_url", "price_in", "temperature"]),
    "openai-api": ('model = "openai-api/vllm/qwen"\nbase_url = "http://localhost:8000/v1"',
                   ["base_urls", "max_tokens_param", "temperature"]),
    "anthropic": ('model = "anthropic/claude-haiku-4-5"', ["api_key_env", "base_url", "temperature"]),
}


@pytest.mark.parametrize("provider", sorted(BACKENDS))
def test_a_misspelt_variant_key_is_refused_for_every_backend(provider, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-used")
    model, known = BACKENDS[provider]
    err = run_config(tmp_path, capsys, PLAYERS + f'[[variants]]\nname = "x"\n{model}\ntemprature = 1.2\n')
    assert f"variant 'x' ({provider}/...): unknown option(s) temprature (known: " in err
    assert all(k in err.split("known: ", 1)[1] for k in known), err


@pytest.mark.parametrize("provider", sorted(BACKENDS))
def test_a_misspelt_key_on_a_declared_variant_the_tournament_does_not_use_is_refused_too(provider, tmp_path,
                                                                                           capsys):
    # The typo is in the file whoever plays: it is found now, not in the run that first uses "x".
    # No key is set: a variant that does not play needs none, only its options are checked.
    model, _ = BACKENDS[provider]
    err = run_config(tmp_path, capsys, '[tournament]\nplayers = ["random", "first"]\n'
                                       f'[[variants]]\nname = "x"\n{model}\ntemprature = 1.2\n')
    assert f"variant 'x' ({provider}/...): unknown option(s) temprature (known: " in err


# -- a misspelt key, for every section ------------------------------------------------------------------

def test_a_misspelt_tournament_key_names_the_section_and_the_known_keys(tmp_path, capsys):
    err = run_config(tmp_path, capsys, PLAYERS.replace('"x"', '"first"') + "rounds = 2\nroudns = 3\n")
    assert "unknown [tournament] key(s) roudns (known: " in err and "rounds" in err and "players" in err


def test_an_unknown_top_level_section_names_the_known_sections(tmp_path, capsys):
    err = run_config(tmp_path, capsys, '[tournament]\nplayers = ["random", "first"]\n[famillies.chess]\nmax_plies = 4\n')
    assert "unknown section(s) famillies (known: families, tournament, variants)" in err


FAMILIES = {
    "chess": "max_plies",
    "connect-four": "rows",
    "negotiation": "turn_tokens",
    "social": "spec_tokens",
    "trivia": "questions",
    "programming": "code_tokens",
    "predict-output": "predict_tokens",
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_misspelt_family_option_is_refused_for_every_family(family, tmp_path, capsys):
    known = FAMILIES[family]
    typo = known[:-2] + known[-1] + known[-2]  # two letters swapped
    err = run_config(tmp_path, capsys, f'[tournament]\nfamilies = ["{family}"]\nplayers = ["random", "first"]\n'
                                       f'[families.{family}]\n{typo} = 3\n')
    assert f"[families.{family}]: unknown option(s) {typo} (known: " in err
    assert known in err.split("known: ", 1)[1], err


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_misspelt_option_of_a_family_the_tournament_does_not_play_is_refused_too(family, tmp_path, capsys):
    known = FAMILIES[family]
    typo = known[:-2] + known[-1] + known[-2]
    other = "chess" if family != "chess" else "connect-four"
    err = run_config(tmp_path, capsys, f'[tournament]\nfamilies = ["{other}"]\nplayers = ["random", "first"]\n'
                                       f'[families.{family}]\n{typo} = 3\n')
    assert f"[families.{family}]: unknown option(s) {typo} (known: " in err


def test_a_misspelt_price_file_key_names_the_file_the_entry_and_the_known_keys(tmp_path, capsys):
    prices = tmp_path / "prices.toml"
    prices.write_text('["openai-api/vllm/qwen"]\ninptu = 0.2\noutput = 0.4\n', encoding="utf-8")
    err = run_config(tmp_path, capsys, PLAYERS + '[[variants]]\nname = "x"\nmodel = "openai-api/vllm/qwen"\n'
                                                 f'base_url = "http://localhost:8000/v1"\nprice_file = "{prices}"\n')
    assert f'{prices}: ["openai-api/vllm/qwen"]: unknown key(s) inptu (known: input, output)' in err


def test_a_price_file_with_a_negative_or_infinite_price_is_refused(tmp_path, capsys):
    prices = tmp_path / "prices.toml"
    variant = (PLAYERS + '[[variants]]\nname = "x"\nmodel = "openai-api/vllm/qwen"\n'
               f'base_url = "http://localhost:8000/v1"\nprice_file = "{prices}"\n')
    for value in ("-1.0", "inf", "nan"):
        prices.write_text(f'["openai-api/vllm/qwen"]\ninput = {value}\noutput = 0.4\n', encoding="utf-8")
        err = run_config(tmp_path, capsys, variant)
        assert "input must be a non-negative number (USD per million tokens)" in err, (value, err)


# -- range checks -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, value, needle", [
    ("call_timeout_s", "nan", "call_timeout_s must be a positive number of seconds"),
    ("call_timeout_s", "inf", "call_timeout_s must be a positive number of seconds"),
    ("call_timeout_s", "-5", "call_timeout_s must be a positive number of seconds"),
    ("cost_limit_usd", "nan", "cost_limit_usd must be a positive number of dollars"),
    ("cost_limit_usd", "inf", "cost_limit_usd must be a positive number of dollars"),
    ("cost_limit_usd", "-1.5", "cost_limit_usd must be a positive number of dollars"),
    ("matches_in_flight", "0", "matches_in_flight must be a positive integer"),
    ("calls_per_model", "-2", "calls_per_model must be a positive integer"),
    ("max_attempts", "0", "max_attempts must be a positive integer"),
    ("max_attempts", "inf", "max_attempts must be a positive integer"),
    ("rounds", "true", "rounds must be a positive integer"),
])
def test_tournament_numbers_that_mean_nothing_are_refused(key, value, needle):
    with pytest.raises(ConfigError) as caught:
        parse(f'[tournament]\nplayers = ["random", "first"]\n{key} = {value}\n')
    assert f"bad.toml: [tournament] {needle}, got " in str(caught.value)


@pytest.mark.parametrize("key, value, needle", [
    ("temperature", "nan", "temperature must be a finite number"),
    ("temperature", "inf", "temperature must be a finite number"),
    ("temperature", "-0.1", "temperature must be between 0 and 2"),
    ("temperature", "2.5", "temperature must be between 0 and 2"),
    ("top_p", "0", "top_p must be > 0 and <= 1"),
    ("top_p", "1.5", "top_p must be > 0 and <= 1"),
    ("top_p", "nan", "top_p must be a finite number"),
    ("max_tokens", "0", "max_tokens must be >= 1"),
    ("max_tokens", "-3", "max_tokens must be >= 1"),
    ("max_tokens", "inf", "max_tokens must be a whole number"),
])
def test_sampling_numbers_that_mean_nothing_are_refused(key, value, needle):
    with pytest.raises(ConfigError) as caught:
        parse(PLAYERS + f'[[variants]]\nname = "x"\nmodel = "mock/random"\n{key} = {value}\n')
    assert f"bad.toml: variant 'x': {needle}, got " in str(caught.value)


@pytest.mark.parametrize("key, value, needle", [
    ("timeout", "nan", "timeout must be a positive number of seconds"),
    ("timeout", "inf", "timeout must be a positive number of seconds"),
    ("timeout", "-1", "timeout must be a positive number of seconds"),
    ("total_timeout", "0", "total_timeout must be a positive number of seconds"),
    ("max_connections", "0", "max_connections must be a positive integer"),
    ("price_in", "-0.5", "price_in must be a non-negative number"),
    ("price_out", "inf", "price_out must be a non-negative number"),
    ("price_in", "nan", "price_in must be a non-negative number"),
])
def test_backend_numbers_that_mean_nothing_are_refused(key, value, needle, tmp_path, capsys):
    err = run_config(tmp_path, capsys, PLAYERS + '[[variants]]\nname = "x"\nmodel = "openai-api/vllm/qwen"\n'
                                                 f'base_url = "http://localhost:8000/v1"\n{key} = {value}\n')
    assert f"variant 'x' (openai-api/...): {needle}" in err


def test_a_scripted_player_refuses_a_negative_latency_and_an_unknown_failure_kind(tmp_path, capsys):
    err = run_config(tmp_path, capsys, PLAYERS + '[[variants]]\nname = "x"\nmodel = "mock/random"\nlatency_s = -1\n')
    assert "variant 'x' (mock/...): latency_s must be a non-negative number of seconds, got -1" in err
    err = run_config(tmp_path, capsys, PLAYERS + '[[variants]]\nname = "x"\nmodel = "mock/fail"\nkind = "boom"\n')
    assert "kind must be one of 'fatal', 'transient', 'rate-limit', got 'boom'" in err


def test_a_family_option_below_its_minimum_or_not_finite_is_refused(tmp_path, capsys):
    err = run_config(tmp_path, capsys, '[tournament]\nfamilies = ["negotiation"]\nplayers = ["random", "first"]\n'
                                       '[families.negotiation]\nethics_weight = nan\n')
    assert "[families.negotiation]: ethics_weight must be a finite number, got nan" in err
    err = run_config(tmp_path, capsys, '[tournament]\nfamilies = ["programming"]\nplayers = ["random", "first"]\n'
                                       '[families.programming]\ntimeout_s = 0.1\n')
    assert "[families.programming]: timeout_s must be >= 0.5, got 0.1" in err


# -- every missing key at once ------------------------------------------------------------------------------

def test_every_missing_api_key_is_named_in_one_line(tmp_path, capsys, monkeypatch):
    for env in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TOGETHER_API_KEY"):
        monkeypatch.delenv(env, raising=False)
    err = run_config(tmp_path, capsys, '[tournament]\nplayers = ["a", "b", "c", "random"]\n'
                                       '[[variants]]\nname = "a"\nmodel = "openai/gpt-4o-mini"\n'
                                       '[[variants]]\nname = "b"\nmodel = "anthropic/claude-haiku-4-5"\n'
                                       '[[variants]]\nname = "c"\nmodel = "openai-api/together/llama"\n'
                                       'base_url = "https://api.together.xyz/v1"\n')
    for name, env in (("a", "OPENAI_API_KEY"), ("b", "ANTHROPIC_API_KEY"), ("c", "TOGETHER_API_KEY")):
        assert f"variant '{name}'" in err and env in err, (name, err)
    assert err.index("variant 'a'") < err.index("; variant 'b'") < err.index("; variant 'c'")


def test_a_good_config_still_parses_to_the_same_settings():
    cfg = parse('[tournament]\nplayers = ["random", "x"]\nrounds = 2\ncall_timeout_s = 30\ncost_limit_usd = 1\n'
                '[[variants]]\nname = "x"\nmodel = "mock/script"\nscript = ["a"]\ntemperature = 0.5\ntop_p = 1\n'
                'max_tokens = 12\nstop = "END"\n[families.chess]\nmax_plies = 4\n')
    assert cfg.rounds == 2 and cfg.call_timeout_s == 30.0 and cfg.cost_limit_usd == 1.0
    x = cfg.variants["x"]
    assert (x.params.temperature, x.params.top_p, x.params.max_tokens, x.params.stop) == (0.5, 1, 12, ("END",))
    assert x.options == {"script": ["a"]} and cfg.family_options == {"chess": {"max_plies": 4}}
