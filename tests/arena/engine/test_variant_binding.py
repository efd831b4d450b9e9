"""A tournament's identity includes everything that changes a prompt, and a variant name is bound to
its definition in a run directory: reusing it for another model is refused, not merged into one rating."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from arena.config import parse_config
from arena.engine.runner import run
from arena.engine.store import Store, StoreError

REPO = Path(__file__).resolve().parents[3]


def _cfg(seed: int = 1, **variant) -> dict:
    return {"tournament": {"families": ["chess"], "players": ["x", "random"], "seed": seed},
            "families": {"chess": {"max_plies": 4}},
            "variants": [{"name": "x", "model": "mock/first", **variant}]}


def test_unleashed_is_part_of_the_tournament_identity():
    plain = parse_config(_cfg())
    unleashed = parse_config({**_cfg(), "tournament": {**_cfg()["tournament"], "unleashed": {"chess": True}}})
    assert plain.tournament_id != unleashed.tournament_id


def test_a_variant_name_reused_for_another_definition_is_refused(tmp_path):
    run(parse_config(_cfg()), tmp_path)
    with pytest.raises(StoreError, match="variant 'x' is defined differently"):
        run(parse_config(_cfg(seed=2, model="mock/random")), tmp_path)  # another tournament, same name
    with pytest.raises(StoreError, match="variant 'x'"):
        run(parse_config(_cfg(seed=2, system="You are someone else.")), tmp_path)
    with pytest.raises(StoreError, match="variant 'x'"):
        run(parse_config(_cfg(seed=2, latency_s=0.5, text="other")), tmp_path)  # a backend option
    store = Store(tmp_path, create=False)
    try:
        assert len(store.tournaments()) == 1  # the refused runs left nothing behind
    finally:
        store.close()
    again = run(parse_config(_cfg(seed=2, timeout=30)), tmp_path)  # the engine's own options do not rebind
    assert again.finished == 2


def test_the_cli_refuses_a_rebound_name_in_one_line(tmp_path):
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    body = ('[tournament]\nfamilies = ["chess"]\nplayers = ["x", "random"]\n[families.chess]\nmax_plies = 4\n'
            '[[variants]]\nname = "x"\nmodel = "{}"\n')
    first.write_text(body.format("mock/first"))
    second.write_text(body.format("mock/random"))
    cli = [sys.executable, "-m", "arena.cli", "run", "--run-dir", str(tmp_path / "run"), "--display", "none"]
    assert subprocess.run([*cli, str(first)], cwd=REPO, capture_output=True).returncode == 0
    got = subprocess.run([*cli, str(second)], cwd=REPO, capture_output=True, text=True)
    assert got.returncode != 0 and "Traceback" not in got.stderr
    assert len(got.stderr.strip().splitlines()) == 1 and "variant 'x' is defined differently" in got.stderr
