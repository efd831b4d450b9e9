"""`arena run` on a grown tournament: `--add-player` plays only the new player's matches, and a
changed family option says, in one line, that it is a new tournament."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

CONFIG = """
[tournament]
name = "cli-grow"
families = ["connect-four"]
players = ["a", "b", "c"]
seed = 5

[families.connect-four]
rows = 4
cols = 4
connect = {connect}

[[variants]]
name = "a"
model = "mock/random"

[[variants]]
name = "b"
model = "mock/random"

[[variants]]
name = "c"
model = "mock/random"

[[variants]]
name = "d"
model = "mock/random"
"""


def arena(*args):
    proc = subprocess.run([sys.executable, "-m", "arena.cli", *args], capture_output=True, text=True, cwd=ROOT, check=False,
                          timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def played(out: str) -> tuple[int, int]:
    m = re.search(r"(\d+) matches played, (\d+) already finished", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def test_add_player_plays_only_its_pairings(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text(CONFIG.format(connect=3))
    run = ["run", str(cfg), "--run-dir", str(tmp_path / "run"), "--display", "plain"]
    code, out, err = arena(*run)
    assert code == 0, err
    assert played(out) == (6, 0)
    code, out, err = arena(*run, "--add-player", "d", "--add-player", "first")
    assert code == 0, err
    assert played(out) == (14, 6)  # two new players: C(5,2) - C(3,2) = 7 new pairs x 2 seat orders
    assert "new tournament" not in err
    code, out, err = arena(*run, "--add-player", "d", "--add-player", "first")
    assert code == 0 and played(out) == (0, 20)


def test_add_player_with_an_unknown_name_is_one_line(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text(CONFIG.format(connect=3))
    code, out, err = arena("run", str(cfg), "--run-dir", str(tmp_path / "run"), "--display", "none",
                           "--add-player", "nobody")
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "--add-player: unknown variant 'nobody'" in err
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_a_changed_family_option_says_new_tournament_in_one_line(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text(CONFIG.format(connect=3))
    run = ["run", str(cfg), "--run-dir", str(tmp_path / "run"), "--display", "none"]
    assert arena(*run)[0] == 0
    cfg.write_text(CONFIG.format(connect=4))
    code, _, err = arena(*run)
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.fullmatch(r"arena: family option connect-four\.connect changed \(3 -> 4\): this is a new tournament "
                        r"cli-grow-[0-9a-f]{12}; the old one \(cli-grow-[0-9a-f]{12}\) stays in the store", lines[0])
