"""`arena ratings --method bt` and `arena compare` on real stores written by real tournaments of
players with known strengths (the `duel` family of tests/arena/engine/test_bradley_terry.py)."""
import itertools
import json
import re

import pytest

from arena import plugins
from arena.cli import main
from tests.arena.engine.test_bradley_terry import duel_run

FIELD = {"strong": 4.0, "mid": 2.0, "twin": 2.0, "weak": 1.0}
P_LINE = re.compile(r"P\((\S+) beats (\S+)\) = ([\d.]+) \[([\d.]+), ([\d.]+)\]")


@pytest.fixture(autouse=True)
def duel_family(monkeypatch):
    monkeypatch.setitem(plugins.registered(plugins.FAMILIES), "duel",
                        "tests.arena.engine.test_bradley_terry:create_duel")


@pytest.fixture
def field_run(tmp_path):
    return str(duel_run(tmp_path / "run", FIELD, rounds=25, tie_rate=0.1))


def compare(capsys, *args):
    code = main(["compare", *args, "--bootstrap", "300"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_compare_says_separable_exactly_when_the_interval_excludes_one_half(field_run, capsys):
    seen = set()
    for a, b in itertools.permutations(FIELD, 2):
        code, out, _ = compare(capsys, a, b, "--run-dir", field_run)
        assert code == 0
        m = P_LINE.search(out)
        p, lo, hi = (float(x) for x in m.groups()[2:])
        assert lo <= p <= hi
        separable = lo > 0.5 or hi < 0.5
        assert ("separable at 95%" in out and "not separable" not in out) == separable, out
        if not separable:
            assert re.search(r"about \d+ more decisive matches needed", out) or "record is even" in out, out
        assert re.search(r"\d+ wins, \d+ losses, \d+ draws in 50 matches", out)
        assert "Wilson 95%" in out and "leader (family *): strong; dropping" in out
        seen.add(separable)
    assert seen == {True, False}  # strong vs weak separates, mid vs twin (equal strength) does not
    _, out, _ = compare(capsys, "strong", "weak", "--run-dir", field_run)
    assert "separable at 95%" in out and "not separable" not in out
    _, out, _ = compare(capsys, "mid", "twin", "--run-dir", field_run)
    assert "not separable at 95%" in out and "tie rate" in out


def test_compare_refuses_the_same_variant_an_unknown_one_and_no_variants(field_run, capsys):
    for args, needle in [(["mid", "mid"], "two different variants"), (["mid", "ghost"], "unknown variant 'ghost'"),
                         (["mid"], "compare needs two variants"), ([], "compare needs two variants"),
                         (["mid", "--lineage", "mid"], "not both"), (["--lineage", "nope"], "unknown variant 'nope'"),
                         (["mid", "weak", "--role", "king"], "unknown role 'king'"),
                         (["mid", "weak", "--bootstrap", "0"], "between 1 and 100000")]:
        try:
            code = main(["compare", *args, "--run-dir", field_run])
        except SystemExit as exc:  # argparse's own errors
            code = exc.code
        err = capsys.readouterr().err
        assert code == 2 and needle in err and "Traceback" not in err, (args, err)


def test_ratings_bt_table_and_all_as_json(field_run, capsys):
    assert main(["ratings", "--method", "bt", "--run-dir", field_run, "--bootstrap", "200"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "Bradley-Terry" in lines[0] and lines[1].split()[:3] == ["variant", "strength", "interval"]
    assert lines[2].split()[0] == "strong" and lines[-1].split()[0] == "weak"
    assert re.search(r"strong\s+[\d.]+\s+\[\+[\d.]+, \+[\d.]+\]", out)
    # TrueSkill stays the default, as before
    assert main(["ratings", "--run-dir", field_run]) == 0
    assert "mu" in capsys.readouterr().out.splitlines()[1]
    for method in ("bt", "trueskill"):
        assert main(["ratings", "--method", method, "--all", "--format", "json", "--run-dir", field_run,
                     "--bootstrap", "200"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert {(r["role"], r["family"]) for r in rows} == {("player", "duel"), ("player", "*")}
        assert len(rows) == 8 and all(r["lo"] <= r["hi"] for r in rows)
        if method == "bt":
            assert all(r["lo"] <= r["strength"] <= r["hi"] for r in rows)


def test_lineage_lists_every_generation_and_which_steps_are_significant(tmp_path, capsys):
    # g1 plays exactly like its parent; g2 is four times as strong
    run_dir = str(duel_run(tmp_path / "run", {"smol": 1.0, "smol-g1": 1.0, "smol-g2": 4.0}, rounds=40))
    assert main(["compare", "--lineage", "smol", "--run-dir", run_dir, "--bootstrap", "300"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("  g0 smol:") and "vs" not in lines[1]
    assert lines[2].startswith("  g1 smol-g1:") and lines[2].endswith("no significant change")
    assert lines[3].startswith("  g2 smol-g2:") and lines[3].endswith("significantly better")
    assert len(lines) == 4


def test_a_judged_family_uses_the_referees_measured_accuracy(tmp_path, capsys):
    """6-4 ranked by a referee right 70% of the time: the true edge is 0.1 / (2 * 0.7 - 1) = 0.25, so
    96 decisive matches in all (matches_needed(0.75, judge_accuracy=0.7)), 86 more than played."""
    from arena.engine.store import Store
    from arena.records import PLAYER, Entry, MatchResult, RankedSet, ScheduledMatch
    store = Store(tmp_path / "run")
    store.ensure_tournament("t", "t", {}, 10, {"a": {}, "b": {}, "judge": {}})
    prompt = [{"role": "user", "content": "Write a haiku."}]
    for k in range(10):
        ranks = (0, 1) if k < 6 else (1, 0)
        rs = RankedSet(PLAYER, prompt, [Entry("a", "x", ranks[0]), Entry("b", "y", ranks[1])], "quality",
                       ranked_by="referees:judge")
        result = MatchResult([rs], details={"referee_accuracy": {"judge": [7, 10] if k == 0 else [0, 0]}})
        store.commit_match(ScheduledMatch(f"m{k}", "t", "poem", ("a", "b"), 0, k, k, k), result, [], [],
                           started_at=0.0)
    store.close()
    code, out, _ = compare(capsys, "a", "b", "--run-dir", str(tmp_path / "run"))
    assert code == 0 and "6 wins, 4 losses, 0 draws in 10 matches" in out
    assert "about 86 more decisive matches needed" in out, out
    assert "judged by referees judge of measured accuracy 0.70" in out
