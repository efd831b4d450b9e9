"""Bad input gets one clear line and a non-zero exit, never a traceback."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from arena.cli import main

ROOT = Path(__file__).resolve().parents[3]

MOCK = """
[tournament]
families = ["chess"]
players = ["random", "first"]
[families.chess]
max_plies = 10
"""


def arena(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "arena.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("config,needle", [
    ('[tournament]\nfamilies = ["poker"]\nplayers = ["random", "first"]', "unknown family 'poker'"),
    ('[tournament]\nplayers = ["random", "nobody"]', "unknown variant 'nobody'"),
    ('[tournament\nplayers = [', "not valid TOML"),
    ('[tournament]\nrounds = -1', "rounds must be a positive integer"),
    ('[tournament]\nplayers = ["random", "x"]\n[[variants]]\nname = "x"\nmodel = "nowhere/model"', "unknown model"),
    ('[tournament]\nplayers = ["random", "x"]\n[[variants]]\nname = "x"\nmodel = "local/missing.gguf"', "not found"),
    ('[tournament]\nplayers = ["random", "x"]\n[[variants]]\nname = "x"\nmodel = "mock/random"\ntemperature = "hot"',
     "temperature must be a number"),
    ('[tournament]\nplayers = ["random", "first"]\n[families.chess]\nmax_plies = 0', "max_plies must be >= 1"),
    ('[tournament]\nplayers = ["random"]', "at least 2 players"),
    ('[tournament]\ncolour = "blue"', "unknown [tournament] key"),
])
def test_bad_configs_get_one_clear_line(tmp_path, config, needle):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(config)
    code, out, err = arena("run", str(cfg), "--run-dir", str(tmp_path / "run"), "--display", "none")
    assert code != 0
    assert needle in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_config_run_dir_match_and_variant(tmp_path):
    code, _, err = arena("run", str(tmp_path / "nope.toml"), "--display", "none")
    assert code == 2 and "config file not found" in err
    code, _, err = arena("ratings", "--run-dir", str(tmp_path / "missing"))
    assert code == 2 and "run directory not found" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = arena("ratings", "--run-dir", str(empty))
    assert code == 2 and "no arena run" in err and "Traceback" not in err


def test_full_cli_flow_on_scripted_players(tmp_path, capsys):
    cfg = tmp_path / "t.toml"
    cfg.write_text(MOCK)
    run_dir = str(tmp_path / "run")
    assert main(["run", str(cfg), "--run-dir", run_dir, "--display", "plain"]) == 0
    out = capsys.readouterr().out
    assert "[2/2]" in out and "matches played" in out

    assert main(["ratings", "--run-dir", run_dir, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["variant"] for r in rows} == {"random", "first"}
    assert all({"variant", "role", "family", "mu", "sigma", "matches"} <= set(r) for r in rows)
    assert all(r["matches"] == 2 for r in rows)

    assert main(["ratings", "--run-dir", run_dir, "--family", "chess"]) == 0
    assert "random" in capsys.readouterr().out
    assert main(["ratings", "--run-dir", run_dir, "--family", "go"]) == 2
    assert main(["ratings", "--run-dir", run_dir, "--role", "king"]) == 2

    assert main(["compare", "random", "first", "--run-dir", run_dir]) == 0
    out = capsys.readouterr().out
    assert "P(random beats first)" in out and "wins" in out
    assert main(["compare", "random", "ghost", "--run-dir", run_dir]) == 2
    assert "unknown variant 'ghost'" in capsys.readouterr().err

    export = tmp_path / "m.jsonl"
    assert main(["export", "matches", "--run-dir", run_dir, "--out", str(export)]) == 0
    lines = [json.loads(x) for x in export.read_text().splitlines()]
    assert len(lines) == 2 and all(m["transcript"] and m["calls"] and m["ranked_sets"] for m in lines)

    mid = lines[0]["id"]
    assert main(["show", mid[:8], "--run-dir", run_dir]) == 0
    out = capsys.readouterr().out
    assert mid in out and "calls (" in out and "ranking: player / outcome" in out and "1." in out
    assert main(["show", "zzzz", "--run-dir", run_dir]) == 2


def test_rerun_with_same_command_skips_finished_matches(tmp_path, capsys):
    cfg = tmp_path / "t.toml"
    cfg.write_text(MOCK)
    run_dir = str(tmp_path / "run")
    assert main(["run", str(cfg), "--run-dir", run_dir, "--display", "plain"]) == 0
    capsys.readouterr()
    assert main(["run", str(cfg), "--run-dir", run_dir, "--display", "plain"]) == 0
    assert "0 matches played, 2 already finished" in capsys.readouterr().out


def test_a_permanently_failing_variant_fails_its_matches_only(tmp_path, capsys):
    cfg = tmp_path / "t.toml"
    cfg.write_text(MOCK.replace('["random", "first"]', '["random", "first", "broken"]')
                   + '\n[[variants]]\nname = "broken"\nmodel = "mock/fail"\n')
    run_dir = str(tmp_path / "run")
    assert main(["run", str(cfg), "--run-dir", run_dir, "--display", "plain"]) == 4  # some matches failed
    out = capsys.readouterr().out
    assert out.count("FAILED: model call failed") == 4 and "4 failed" in out
    assert main(["ratings", "--run-dir", run_dir, "--format", "json"]) == 0
    rows = {r["variant"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["random"]["matches"] == 2 and "broken" not in rows


def test_rich_dashboard_shows_progress_leaderboard_results_and_models(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    cfg = tmp_path / "t.toml"
    cfg.write_text(MOCK)
    assert main(["run", str(cfg), "--run-dir", str(tmp_path / "run"), "--display", "rich"]) == 0
    out = capsys.readouterr().out
    for needle in ("2/2", "leaderboard", "latest matches", "running/queued/limit", "calls per model", "random vs first"):
        assert needle in out, needle


def test_none_display_is_silent(tmp_path, capsys):
    cfg = tmp_path / "t.toml"
    cfg.write_text(MOCK)
    assert main(["run", str(cfg), "--run-dir", str(tmp_path / "run"), "--display", "none"]) == 0
    assert capsys.readouterr().out == ""
