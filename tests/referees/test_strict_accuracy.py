"""Strict (JudgeBench-style) referee and panel accuracy: both orders must be right, by verified gap,
stored in match details and reported by `arena referees`."""
import asyncio
import json

import pytest

from arena.cli import main as cli
from arena.engine.ratings import RatingBook, replay_rows
from arena.engine.store import Store
from arena.records import Entry, MatchResult, RankedSet, ScheduledMatch
from referees.accuracy import STRICT, gap_bucket, record_strict, strict_by_judge, wilson
from referees.panel import Candidate, judge
from tournaments.kit.ranking import accuracy_set
from tests.referees.ctxkit import make_ctx, players, variant

RIGHT, WRONG = Candidate("p1", "[1, 2]", 0), Candidate("p2", "[1, 3]", 1)


def judged(refs, cands=(RIGHT, WRONG)):
    ctx = make_ctx(players() + refs, referees=tuple(r.name for r in refs))
    return asyncio.run(judge(ctx, role="player", task="What does it print?", candidates=list(cands), rubric="r"))


def test_inconsistent_tied_and_missing_pairs_count_as_wrong():
    refs = [variant("good", "script", script=["A", "B"]),  # prefers p1 in both orders: right
            variant("first", "constant", text="A"),  # says A whatever is first: inconsistent, wrong
            variant("deaf", "constant", text="no idea")]  # unreadable, re-asked, still missing: wrong
    res = judged(refs)
    details = {}
    accuracy_set(details, res, truth=[0, 1], scores=[1.0, 0.45])
    strict = details[STRICT]
    assert strict["good"] == {"method": "text", "buckets": {"0.3-0.6": [1, 1]}}
    assert strict["first"]["buckets"] == {"0.3-0.6": [0, 1]}
    assert strict["deaf"]["buckets"] == {"0.3-0.6": [0, 1]}
    # the panel, per seat order: good says p1, first says A (p1 first, then p2): forward 2 votes for p1,
    # backward 1 - 1 = a tie, so the panel is inconsistent too
    assert strict["panel:good+first+deaf"]["buckets"] == {"0.3-0.6": [0, 1]}
    # the old, lenient count skips the missing verdicts
    assert details["referee_accuracy"] == {"good": [1, 1], "first": [0, 1]}


def test_panel_is_right_when_its_net_vote_is_right_in_both_orders():
    refs = [variant("good", "script", script=["A", "B"]), variant("good2", "script", script=["A", "B"]),
            variant("first", "constant", text="A")]
    details = {}
    record_strict(details, judged(refs), truth=[0, 1])  # no scores: bucketed as "rank"
    assert details[STRICT]["panel:good+good2+first"]["buckets"] == {"rank": [1, 1]}


def test_pairs_the_truth_calls_equal_are_not_counted():
    details = {}
    record_strict(details, judged([variant("good", "script", script=["A", "B"])]), truth=[0, 0], scores=[0.5, 0.5])
    assert all(not row["buckets"] for row in details[STRICT].values())


def test_gap_buckets_and_wilson_interval():
    assert [gap_bucket(g) for g in (0.05, 0.1, 0.29, 0.3, 0.6, 1.0, None)] == [
        "<0.1", "0.1-0.3", "0.1-0.3", "0.3-0.6", ">=0.6", ">=0.6", "rank"]
    low, high = wilson(35, 60)
    assert low == pytest.approx(0.4573, abs=1e-3) and high == pytest.approx(0.6994, abs=1e-3)  # statsmodels: 0.4572, 0.6994
    assert wilson(0, 0) is None and wilson(0, 5)[0] == 0.0 and wilson(5, 5)[1] == 1.0


def test_arena_referees_reports_strict_accuracy_per_referee_panel_and_bucket(tmp_path, capsys):
    details = {}
    refs = [variant("good", "script", script=["A", "B", "B", "A"]), variant("first", "constant", text="A")]
    ctx = make_ctx(players() + refs, referees=("good", "first"))
    ranked = []
    for truth, scores in (([0, 1], [1.0, 0.2]), ([1, 0], [0.9, 0.95])):  # a wide gap, then a narrow one
        res = asyncio.run(judge(ctx, role="player", task="t", candidates=[RIGHT, WRONG], rubric="r"))
        ranked.append(accuracy_set(details, res, truth=truth, scores=scores))
    store = Store(tmp_path)
    store.ensure_tournament("t-1", "t", {}, 1, {})
    m = ScheduledMatch("match-1", "t-1", "predict-output", ("p1", "p2"), 0, 0, 0, 1)
    outcome = RankedSet("player", [{"role": "user", "content": "q"}], [Entry("p1", "a", 0), Entry("p2", "b", 1)])
    store.commit_match(m, MatchResult([outcome, *ranked], details=details), [], [], 0.0)
    book = RatingBook()
    store.replace_ratings(book.all, replay_rows(store.iter_ranked_sets(), book))  # as the runner does
    assert strict_by_judge(store)[("good", "text")] == {">=0.6": [1, 1], "<0.1": [1, 1]}
    store.close()
    assert cli(["referees", "--run-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "strict accuracy where the truth is known" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "100% (2) [34%-100%]" in lines["good"]  # right in both orders on both pairs, Wilson 95%
    assert "0% (2)" in lines["first"]
    assert "panel:good+first" in lines
    assert cli(["referees", "--run-dir", str(tmp_path), "--format", "json"]) == 0
    rows = {r["variant"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["panel:good+first"]["role"] == "panel"
    assert rows["good"]["strict"]["buckets"]["<0.1"] == {"right": 1, "total": 1, "accuracy": 1.0,
                                                         "ci": list(wilson(1, 1))}
    # `arena ratings --role referee` shows the same cell, not the stored record
    assert cli(["ratings", "--run-dir", str(tmp_path), "--role", "referee"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert "100% (2) [34%-100%]" in lines["good"] and "{" not in lines["good"]


def test_a_predict_output_match_stores_strict_accuracy_by_verified_gap():
    from tests.tournaments.families.test_predict_output import ALIASING, make_ctx as po_ctx, play, script
    variants = [script("a1", ALIASING), script("a2", "no program here", "still nothing"),
                script("p1", "```\n4 4\nTrue\n```"), script("p2", "Output: 3 3\nFalse"),
                script("right", "[[A]]", "[[B]]"), script("first", "[[A]]", "[[A]]")]
    result = play(po_ctx(variants, referees=("right", "first")))
    scores = {e.variant: e.score for e in result.outcome.entries}
    bucket = gap_bucket(scores["p1"] - scores["p2"])
    strict = result.details[STRICT]
    assert strict["right"] == {"method": "text", "buckets": {bucket: [1, 1]}}
    assert strict["first"] == {"method": "text", "buckets": {bucket: [0, 1]}}  # inconsistent: wrong
    assert strict["panel:right+first"]["buckets"] == {bucket: [0, 1]}  # backward: one vote each way
