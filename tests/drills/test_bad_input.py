"""Bad-input drill: hostile configs and command lines, and garbage from models in every role of
every family. Each ends as one clear line and a non-zero exit, or as recorded failures in a
finished run; never a traceback, a hang or a lost match.
"""
from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from arena.cli import main
from arena.config import parse_config
from arena.engine.family import family_names
from arena.engine.runner import run

REPO = Path(__file__).resolve().parents[2]
GOOD = """
[tournament]
name = "good"
families = ["connect-four"]
players = ["rnd", "first"]
rounds = 2
"""
MOCKS = '[tournament]\nplayers = ["random", "first"]\n'

BAD_CONFIGS = {
    "binary-garbage": random.Random(0).randbytes(4096),
    "utf-16": "[tournament]\nname = 'x'\n".encode("utf-16"),
    "nul-byte": b'[tournament]\nname = "a\x00b"\n',
    "deep-arrays": ("[tournament]\nname = " + "[" * 50_000 + "]" * 50_000 + "\n").encode(),
    "deep-tables": ("x = " + "{a = " * 3_000 + "1" + "}" * 3_000 + "\n").encode(),
    "huge-name": (MOCKS + 'name = "' + "x" * 2_000_000 + '"\n').encode(),
    "control-chars-in-name": (MOCKS + 'name = "\\u001b[2J\\u0007"\n').encode(),
    "rounds-astronomical": (MOCKS + "rounds = 1000000000000000000\n").encode(),
    "rounds-string": (MOCKS + 'rounds = "3"\n').encode(),
    "players-string": b'[tournament]\nplayers = "random"\n',
    "families-numbers": (MOCKS + "families = [1, 2]\n").encode(),
    "tournament-not-table": b"tournament = 5\n",
    "unknown-key": (MOCKS + "colour = 'blue'\n").encode(),
    "unknown-section": (MOCKS + "[extra]\nx = 1\n").encode(),
    "unknown-family": (MOCKS + 'families = ["go-fish"]\n').encode(),
    "family-option-type": (MOCKS + 'families = ["chess"]\n[families.chess]\nmax_plies = "many"\n').encode(),
    "family-option-huge": (MOCKS + 'families = ["connect-four"]\n[families.connect-four]\nrows = 1000000\n').encode(),
    "max-tokens-infinite": b'[tournament]\nplayers = ["v", "first"]\n[[variants]]\nname = "v"\n'
                           b'model = "mock/random"\nmax_tokens = 1e309\n',
    "unknown-provider": b'[tournament]\nplayers = ["v", "first"]\n[[variants]]\nname = "v"\nmodel = "nope/x"\n',
    "undeclared-player": b'[tournament]\nplayers = ["ghost", "first"]\n',
    "variant-twice": b'[tournament]\nplayers = ["v", "first"]\n[[variants]]\nname = "v"\nmodel = "mock/random"\n'
                     b'[[variants]]\nname = "v"\nmodel = "mock/first"\n',
    "script-without-script": b'[tournament]\nplayers = ["v", "first"]\n[[variants]]\nname = "v"\n'
                             b'model = "mock/script"\n',
}


def _matches(run_dir: Path) -> list[tuple]:
    db = sqlite3.connect(run_dir / "arena.sqlite")
    try:
        return db.execute("SELECT m.*, (SELECT COUNT(*) FROM calls c WHERE c.match_id = m.id) FROM matches m "
                          "ORDER BY id").fetchall()
    finally:
        db.close()


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory):
    """A finished tournament that every bad input below is thrown at."""
    root = tmp_path_factory.mktemp("bad")
    (root / "good.toml").write_text(GOOD + '[[variants]]\nname = "rnd"\nmodel = "mock/random"\n')
    run_dir = root / "run"
    assert main(["run", str(root / "good.toml"), "--run-dir", str(run_dir), "--display", "none"]) == 0
    return root, run_dir, _matches(run_dir)


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_a_bad_config_is_one_clear_line_and_the_stored_run_is_untouched(case, stored_run, capsys):
    root, run_dir, before = stored_run
    cfg = root / f"{case}.toml"
    cfg.write_bytes(BAD_CONFIGS[case])
    code = main(["run", str(cfg), "--run-dir", str(run_dir), "--display", "none"])
    err = capsys.readouterr().err.strip()
    assert code == 2, (case, code, err[:300])
    assert err.startswith("arena: ") and "\n" not in err and "internal error" not in err, err[:300]
    assert len(err) < 600  # the 2 MB name is not echoed back
    assert _matches(run_dir) == before


@pytest.mark.parametrize("args", [
    ["--rounds", "0"], ["--rounds", "1000000000000000000"], ["--families", "nope"], ["--families", ","],
])
def test_bad_command_line_overrides_are_one_clear_line(args, stored_run, capsys):
    root, run_dir, before = stored_run
    (root / "ok.toml").write_text(MOCKS)
    code = main(["run", str(root / "ok.toml"), "--run-dir", str(run_dir), "--display", "none", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("arena: ") and "\n" not in err, (args, code, err)
    assert _matches(run_dir) == before


def test_a_run_dir_that_is_a_file_or_a_corrupt_store_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "ok.toml").write_text(MOCKS)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "arena.sqlite").write_bytes(random.Random(1).randbytes(8192))
    for run_dir in (not_a_dir, corrupt):
        code = main(["run", str(tmp_path / "ok.toml"), "--run-dir", str(run_dir), "--display", "none"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and err.startswith("arena: ") and "\n" not in err, (run_dir, code, err)
    assert (corrupt / "arena.sqlite").read_bytes() == random.Random(1).randbytes(8192)  # not "repaired" away


def test_the_process_itself_prints_no_traceback_on_hostile_files(tmp_path):
    for case in ("binary-garbage", "deep-arrays", "rounds-astronomical"):
        cfg = tmp_path / f"{case}.toml"
        cfg.write_bytes(BAD_CONFIGS[case])
        proc = subprocess.run([sys.executable, "-m", "arena.cli", "run", str(cfg), "--run-dir", str(tmp_path / "r"),
                               "--display", "none"], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, (case, proc.stderr[-500:])
        assert len(proc.stderr.strip().splitlines()) == 1


def test_unicode_everywhere_is_just_data(tmp_path, capsys):
    cfg = tmp_path / "u.toml"
    cfg.write_text('[tournament]\nname = "турнир 棋"\nfamilies = ["connect-four"]\nplayers = ["игрок", "玩家 🎲"]\n'
                   '[[variants]]\nname = "игрок"\nmodel = "mock/random"\nsystem = "Ты — игрок. مرحبا"\n'
                   '[[variants]]\nname = "玩家 🎲"\nmodel = "mock/script"\nscript = ["٣", "3", "🎲 4"]\n',
                   encoding="utf-8")
    run_dir = tmp_path / "run"
    assert main(["run", str(cfg), "--run-dir", str(run_dir), "--display", "none"]) == 0
    assert main(["ratings", "--run-dir", str(run_dir), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["variant"] for r in rows} == {"игрок", "玩家 🎲"}
    assert main(["ratings", "--run-dir", str(run_dir)]) == 0
    assert "玩家 🎲" in capsys.readouterr().out


# -- garbage from models, in every role of every family --------------------------------------------------------
GARBAGE = [
    "",
    "x" * 300_000,  # huge
    "[" * 20_000 + "]" * 20_000,  # deeply nested JSON
    '{"a": ' * 5_000 + "1" + "}" * 5_000,
    '{"question": 5, "program": ["print(1)"], "answer": {"x": null}, "ranking": "B>A>Q", "winner": 7, "scores": "x"}',
    '[{"rank": "first"}, {"rank": -1}, {"candidate": 99, "rank": 1e999}]',
    "\x00\x01\x1b[31m\u202e\ufeff nul, escapes and bidi \udcff a lone surrogate",
    "🎲♞ 中文 العربية " * 200,
    "```python\nwhile True:\n    pass\n```",
    "```python\nimport os\nprint(os.environ)\nprint(open('/etc/passwd').read())\n```",
    "```python\nx = ' ' * 10**10\nprint(len(x))\n```",
    "Question: ?\nAnswer:\nPROPOSE: P1 books=99999999999999999999 | P2 books=-5\nACCEPT\nVOTE P9\nACTION: ???",
    "1 2 3 [col 99] e4 Ke2 0-0-0 " * 50,
    "A",
    "B > A > A > C; tie; winner: both; score: NaN",
]
OPTIONS = {  # keep sandboxed garbage (while True) short
    "predict-output": {"timeout_s": 0.5},
    "programming": {"timeout_s": 0.5},
}


def _garbage_players(offsets: tuple[int, ...]) -> list[dict]:
    return [{"name": f"junk{i}", "model": "mock/script", "script": GARBAGE[k:] + GARBAGE[:k]}
            for i, k in enumerate(offsets)]


@pytest.mark.parametrize("family", [f for f in family_names() if not f.startswith("bench-")])
def test_garbage_in_every_role_is_recorded_never_a_crash(family, tmp_path):
    players = _garbage_players((0, 5, 10))
    cfg = parse_config({
        "tournament": {"name": f"junk-{family}", "families": [family], "players": [p["name"] for p in players],
                       "seed": 1},
        "variants": players,
        "families": {family: OPTIONS.get(family, {})},
    })
    good = parse_config({"tournament": {"name": "before", "families": ["connect-four"],
                                        "players": ["random", "first"]}})
    run(good, tmp_path)
    before = _matches(tmp_path)

    summary = run(cfg, tmp_path)

    assert summary.finished + summary.failed == summary.total > 0
    rows = _matches(tmp_path)
    assert [r for r in rows if r[1] == good.tournament_id] == before  # earlier matches intact
    mine = [r for r in rows if r[1] == cfg.tournament_id]
    assert len(mine) == summary.total
    for r in mine:
        status, error = r[8], r[13]
        assert status in ("finished", "failed")
        assert (status == "failed") == (error is not None)
        assert error is None or "family error" not in error, error[:500]  # garbage is not a family bug
