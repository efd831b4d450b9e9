import asyncio
import json

from arena.cli import main as cli
from arena.engine.ratings import replay
from arena.engine.store import Store
from arena.records import Entry, MatchResult, RankedSet, ScheduledMatch
from referees.accuracy import accuracy_by_referee, record_accuracy, record_panel_accuracy
from referees.bias import bias_stats
from referees.panel import Candidate, add_to_details, judge
from referees.report import referee_table
from tests.referees.ctxkit import make_ctx, players, variant

SHORT, LONG = Candidate("p1", "Paris", 0), Candidate("p2", "Paris, the capital and largest city of France", 1)


def panel_details(refs, cands=(SHORT, LONG), **kw):
    ctx = make_ctx(players() + refs, referees=tuple(r.name for r in refs), **kw)
    res = asyncio.run(judge(ctx, role="player", task="Capital of France?", candidates=list(cands), rubric="r"))
    details = {}
    add_to_details(details, res)
    return res, details


def test_position_and_length_bias_from_stored_verdicts():
    refs = [variant("first", "constant", text="A"), variant("longer", "script", script=["B", "A"])]
    _, details = panel_details(refs)
    details = json.loads(json.dumps(details))  # exactly what the store keeps
    stats = bias_stats([details])
    first, longer = stats[("first", "referee")], stats[("longer", "referee")]
    assert first.position_bias == 1.0 and first.length_bias == 0.5
    assert longer.position_bias == 0.5 and longer.length_bias == 1.0
    assert first.verdicts == 2 and first.missing == 0


def test_missing_verdicts_and_self_preference_are_counted():
    refs = [variant("mute", "constant", text="no idea")]
    _, details = panel_details(refs)
    assert bias_stats([details])[("mute", "referee")].missing == 2
    # p2 judging a match it plays in (allowed): it always picks itself -> self-preference 1.0
    selfish = [variant("p2", "script", script=["B", "A"])]
    ctx = make_ctx([players()[0], *selfish], referees=("p2",), options={"allow_self_judging": True})
    res = asyncio.run(judge(ctx, role="player", task="q", candidates=[SHORT, LONG], rubric="r"))
    details = {}
    add_to_details(details, res)
    assert bias_stats([details])[("p2", "referee")].self_preference == 1.0


def test_accuracy_helpers():
    details = {}
    record_accuracy(details, "r1", True)
    record_accuracy(details, "r1", False)
    record_accuracy(details, "r2", True, total=3)
    assert details["referee_accuracy"] == {"r1": [1, 2], "r2": [3, 3]}
    right = variant("right", "script", script=["B", "A"])  # picks p2 in both orders
    tied = variant("tied", "constant", text="A")  # disagrees with itself -> tie, which is wrong here
    res, _ = panel_details([right, tied])
    details = {}
    record_panel_accuracy(details, res, truth=[1, 0])
    assert details["referee_accuracy"] == {"right": [1, 1], "tied": [0, 1]}


def _store_with_match(tmp_path, details, referee_sets):
    store = Store(tmp_path)
    store.ensure_tournament("t-1", "t", {}, 1, {})
    m = ScheduledMatch("match-1", "t-1", "trivia", ("p1", "p2"), 0, 0, 0, 1)
    outcome = RankedSet("player", [{"role": "user", "content": "q"}], [Entry("p1", "a", 0), Entry("p2", "b", 1)])
    store.commit_match(m, MatchResult([outcome, *referee_sets], details=details), [], [], 0.0)
    book, history = replay(store.iter_ranked_sets())
    store.replace_ratings(book.all(), history)
    return store


def test_referee_table_and_cli(tmp_path, capsys):
    refs = [variant("first", "constant", text="A"), variant("longer", "script", script=["B", "A"])]
    res, details = panel_details(refs)
    record_accuracy(details, "longer", True)
    judging = RankedSet("referee", [{"role": "user", "content": "j"}], [Entry("longer", "B", 0), Entry("first", "A", 1)],
                        "judging")
    store = _store_with_match(tmp_path, details, [judging])
    rows = {r["variant"]: r for r in referee_table(store)}
    assert rows["longer"]["mu"] > rows["first"]["mu"]
    assert rows["longer"]["accuracy"] == 1.0 and rows["first"]["accuracy"] is None
    assert rows["first"]["position_bias"] == 1.0
    store.close()
    assert cli(["referees", "--run-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "longer" in out and "first-seat wins" in out
    assert cli(["referees", "--run-dir", str(tmp_path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {r["variant"] for r in data} == {"first", "longer"}
    assert accuracy_by_referee(Store(tmp_path, create=False)) == {"longer": [1, 1]}


def test_cli_bad_run_dir_is_one_line(tmp_path, capsys):
    assert cli(["referees", "--run-dir", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("arena: ") and len(err.strip().splitlines()) == 1
    assert cli(["referees", "--run-dir", str(tmp_path)]) == 2  # a folder without a store
