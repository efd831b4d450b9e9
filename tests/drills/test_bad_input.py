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


# -- command lines and files that are not what they seem --------------------------------------------------------
def _one_line(capsys, code: int, expect_code: int = 2) -> str:
    err = capsys.readouterr().err.strip()
    assert code == expect_code, (code, err[:500])
    assert err.startswith("arena: ") and "\n" not in err and "internal error" not in err, err[:500]
    assert len(err) < 400, err[:500]
    return err


@pytest.mark.parametrize("what", ["matches", "dpo"])
def test_export_writes_through_a_symlink_and_never_replaces_it(what, stored_run, tmp_path, capsys):
    _, run_dir, _ = stored_run
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert main(["export", what, "--run-dir", str(run_dir), "--out", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert target.read_text() != "old\n"
    assert not list(tmp_path.glob("*.part"))


def test_export_into_a_fifo_writes_into_it(stored_run, tmp_path, capsys):
    import os
    import threading
    _, run_dir, _ = stored_run
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert main(["export", "matches", "--run-dir", str(run_dir), "--out", str(fifo)]) == 0
    reader.join(30)
    assert fifo.is_fifo() and got and got[0].count(b"\n") >= 1


@pytest.mark.parametrize("what", ["matches", "dpo"])
def test_export_to_a_full_device_is_one_line_and_the_device_stays(what, stored_run, tmp_path, capsys):
    import os
    import stat
    _, run_dir, _ = stored_run
    # A node of our own where we may make one (root; /tmp is often nodev, /dev is not): a
    # regression must not replace the real /dev/full. Without root it could not replace it anyway.
    full = Path("/dev/full")
    for candidate in (tmp_path / "full", Path(f"/dev/arena-drill-full-{os.getpid()}")):
        try:
            os.mknod(candidate, stat.S_IFCHR | 0o666, os.makedev(1, 7))
            candidate.open("w").close()
        except OSError:
            candidate.unlink(missing_ok=True)
            continue
        full = candidate
        break
    try:
        code = main(["export", what, "--run-dir", str(run_dir), "--out", str(full)])
        if what == "matches":  # the connect-four run has matches but no pairs: only matches fill the disk
            assert "space" in _one_line(capsys, code).lower()
        assert stat.S_ISCHR(full.stat().st_mode)
    finally:
        if full.name.startswith("arena-drill-full-"):
            full.unlink(missing_ok=True)


@pytest.mark.parametrize("what", ["matches", "dpo"])
def test_export_to_dash_writes_to_stdout(what, stored_run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _, run_dir, _ = stored_run
    assert main(["export", what, "--run-dir", str(run_dir), "--out", "-"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]  # nothing but the data on stdout
    assert (rows or what == "dpo") and not Path("-").exists()
    assert "wrote" in captured.err


@pytest.mark.parametrize("args", [
    ["export", "matches", "--out", ""],
    ["export", "dpo", "--out", ""],
    ["export", "dpo", "--out", "x.jsonl", "--mix", "MIX", "--mix-ratio", "nan"],
    ["export", "dpo", "--out", "x.jsonl", "--min-margin", "inf"],
    ["export", "dpo", "--out", "-", "--format", "parquet"],
    ["export"],
    ["show", "0" * 100_000],
    ["compare", "rnd", "rnd"],
])
def test_bad_flags_are_one_clear_line(args, stored_run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    root, run_dir, _ = stored_run
    (root / "mix.jsonl").write_text('{"prompt": "p", "chosen": "c", "rejected": "r"}\n')
    args = [str(root / "mix.jsonl") if a == "MIX" else a for a in args]
    argv = [*args, "--run-dir", str(run_dir)] if len(args) > 1 else args
    _one_line(capsys, main(argv))
    assert not Path("x.jsonl").exists()


def test_nan_timeout_for_the_sandbox_is_one_line(tmp_path, capsys):
    f = tmp_path / "p.py"
    f.write_text("print(1)\n")
    for bad in ("nan", "inf", "-inf"):
        _one_line(capsys, main(["sandbox", str(f), "--timeout", bad]))


@pytest.mark.parametrize("store_bytes", [
    random.Random(3).randbytes(8192),  # not a database
    b"SQLite format 3\x00" + random.Random(4).randbytes(8000),  # a damaged one
])
@pytest.mark.parametrize("command", [["ratings"], ["show", "abc"], ["export", "matches", "--out", "OUT"],
                                     ["export", "dpo", "--out", "OUT"], ["compare", "a", "b"]])
def test_readers_on_a_damaged_store_say_so_in_one_line(command, store_bytes, tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "arena.sqlite").write_bytes(store_bytes)
    argv = [str(tmp_path / "out.jsonl") if a == "OUT" else a for a in command]
    err = _one_line(capsys, main([*argv, "--run-dir", str(run_dir)]))
    assert "store" in err or "database" in err
    assert (run_dir / "arena.sqlite").read_bytes() == store_bytes


@pytest.mark.parametrize("toml", [
    '[tournament]\nplayers = ["random", "first"]\nfamilies = []\n',
    '[tournament]\nplayers = []\n',
    '[tournament]\nplayers = ["a\\nb", "first"]\n[[variants]]\nname = "a\\nb"\nmodel = "mock/random"\n',
    '[tournament]\nplayers = ["a\\u001b[2Jb", "first"]\n[[variants]]\nname = "a\\u001b[2Jb"\nmodel = "mock/random"\n',
    '[tournament]\nplayers = ["tab\\tname", "first"]\n[[variants]]\nname = "tab\\tname"\nmodel = "mock/random"\n',
])
def test_empty_lists_and_control_characters_in_names_are_refused(toml, stored_run, tmp_path, capsys):
    _, run_dir, before = stored_run
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    err = _one_line(capsys, main(["run", str(cfg), "--run-dir", str(run_dir), "--display", "none"]))
    assert "\x1b" not in err
    assert _matches(run_dir) == before


@pytest.mark.parametrize("content", [b"", b"not a gguf at all" * 100, b"GGUF" + b"\xff" * 4 + b"\x00" * 100,
                                     b"GGUF\x03\x00\x00\x00"])
def test_a_garbage_gguf_is_refused_before_any_match_starts(content, tmp_path, capsys):
    model = tmp_path / "broken.gguf"
    model.write_bytes(content)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[tournament]\nfamilies = ["connect-four"]\nplayers = ["broken", "first"]\n'
                   f'[[variants]]\nname = "broken"\nmodel = "local/{model}"\n')
    err = _one_line(capsys, main(["run", str(cfg), "--run-dir", str(tmp_path / "run"), "--display", "none"]))
    assert "gguf" in err.lower()
    assert not (tmp_path / "run" / "arena.sqlite").exists() or _matches(tmp_path / "run") == []
