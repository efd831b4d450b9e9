"""The open door, used as an outsider would: the tic-tac-toe example of docs/extending.md is built
and installed for real into a separate directory, then played by the `arena` command."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arena.engine.store import Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "arena-tictactoe"
CONFIG = '[tournament]\nfamilies = ["tic-tac-toe"]\nplayers = ["random", "first"]\n'


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("plugin")
    # Build from a copy: pip leaves build/ and *.egg-info beside the sources it builds.
    src = shutil.copytree(EXAMPLE, tmp / "src", ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-index", "--target", str(tmp / "site"), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return tmp / "site"


def arena(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "arena.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_an_installed_family_plays_a_tournament_that_is_stored_and_rated(site, tmp_path):
    (tmp_path / "cfg.toml").write_text(CONFIG)
    run_dir = tmp_path / "run"
    proc = arena(site, tmp_path, "run", "cfg.toml", "--run-dir", str(run_dir), "--display", "none")
    assert proc.returncode == 0, proc.stderr

    store = Store(run_dir, create=False)
    matches = list(store.iter_matches())
    store.close()
    assert len(matches) == 2 and {m["family"] for m in matches} == {"tic-tac-toe"}
    assert all(m["status"] == "finished" for m in matches), [m["error"] for m in matches]
    for m in matches:
        assert list(m["details"]) == ["moves", "termination", "plies", "board", "scores"]
        assert m["details"]["plies"] == len(m["details"]["moves"]) >= 5  # nobody wins in fewer

    proc = arena(site, tmp_path, "ratings", "--run-dir", str(run_dir), "--format", "json", "--family", "tic-tac-toe")
    assert proc.returncode == 0, proc.stderr
    ratings = json.loads(proc.stdout)
    assert {r["variant"] for r in ratings} == {"random", "first"}
    assert all(r["family"] == "tic-tac-toe" and r["matches"] == 2 for r in ratings)


def test_an_unknown_family_is_one_line_naming_the_known_ones_plugins_included(site, tmp_path):
    (tmp_path / "cfg.toml").write_text(CONFIG.replace('"tic-tac-toe"', '"tic-tac-tow"'))
    proc = arena(site, tmp_path, "run", "cfg.toml", "--run-dir", str(tmp_path / "run"), "--display", "none")
    assert proc.returncode != 0
    [line] = proc.stderr.strip().splitlines()
    assert "unknown family 'tic-tac-tow'" in line
    assert "tic-tac-toe" in line and "chess" in line and "connect-four" in line


def test_a_misspelt_option_of_an_installed_family_is_refused(site, tmp_path):
    (tmp_path / "cfg.toml").write_text(CONFIG + "[families.tic-tac-toe]\nmax_retrys = 1\n")
    proc = arena(site, tmp_path, "run", "cfg.toml", "--run-dir", str(tmp_path / "run"), "--display", "none")
    assert proc.returncode != 0
    [line] = proc.stderr.strip().splitlines()
    assert "tic-tac-toe" in line and "max_retrys" in line


def test_the_extending_guide_shows_the_example_as_it_is():
    guide = (ROOT / "docs" / "extending.md").read_text()
    for name in ("arena_tictactoe.py", "pyproject.toml"):
        assert (EXAMPLE / name).read_text().strip() in guide, f"docs/extending.md is out of date with {name}"
