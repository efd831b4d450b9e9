"""The loop's proof: paired held-out evaluation with bootstrap intervals, the ordinary questions
that show forgetting, and the plain sentences the loop prints about them."""
from __future__ import annotations

import json

from arena.config import BUILTIN_VARIANTS
from arena.training import ordinary
from arena.training.evaluate import (
    MODES,
    ORDINARY,
    PREDICT,
    bootstrap,
    evaluate,
    findings,
    table,
)


def test_bootstrap_interval_on_known_numbers():
    # no spread: the interval is the point
    assert bootstrap([0.25] * 30).to_dict() == {"mean": 0.25, "lo": 0.25, "hi": 0.25, "n": 30}
    # a fair coin over 100 tasks: mean 0.5, 95% interval about 0.5 -/+ 1.96 * 0.05
    coin = bootstrap([0.0, 1.0] * 50, seed=3)
    assert coin.mean == 0.5 and abs(coin.lo - 0.402) < 0.02 and abs(coin.hi - 0.598) < 0.02
    assert coin.excludes_zero  # the whole interval is above 0
    # seeded: the same numbers and seed give the same interval
    assert bootstrap([0.1, -0.2, 0.4, 0.0, 0.3], seed=7) == bootstrap([0.1, -0.2, 0.4, 0.0, 0.3], seed=7)
    small = bootstrap([-1.0, 1.0, 0.0, 0.5, -0.5])
    assert small.lo < 0 < small.hi and not small.excludes_zero


def test_ordinary_questions_load_with_disjoint_varied_splits():
    items = ordinary.load()
    assert 180 <= len(items) <= 240
    train, held = ordinary.split("train"), ordinary.split("heldout")
    assert len(train) + len(held) == len(items) and min(len(train), len(held)) >= 90
    assert not {i.prompt for i in train} & {i.prompt for i in held}
    assert not {i.id for i in train} & {i.id for i in held}
    kinds = {i.kind for i in items}
    assert kinds == {"fact", "arithmetic", "instruction", "definition", "unit"}
    assert {i.kind for i in train} == kinds == {i.kind for i in held}
    assert {i.kind for i in ordinary.split("heldout", 5)} == kinds  # a small set is still varied
    for item in items:  # every reference answer is itself a correct answer
        assert all(item.correct(a) for a in item.answers), item


def test_ordinary_answer_rule():
    def item(answers, case=False):
        return ordinary.OrdinaryItem("x", "heldout", "fact", "q", tuple(answers), case)
    assert item(["Paris"]).correct("The capital of France is Paris.")
    assert item(["1000"]).correct("There are 1,000 metres in a kilometre.")
    assert not item(["1000"]).correct("10000")  # whole words only
    assert item(["twenty-four", "24"]).correct("Twenty four hours")
    assert not item(["APPLE"], case=True).correct("apple")  # the instruction asked for capitals
    assert item(["APPLE"], case=True).correct("APPLE")
    assert not item(["Paris"]).correct("Paris " + "and so on " * 60)  # listing everything is no answer
    assert not item(["Paris"]).correct("")


def _report(child_ordinary, child_po, control_po=None):
    def d(v):
        return {"mean": v[0], "lo": v[1], "hi": v[2], "n": 24}
    diffs = {"child": {f"{ORDINARY} correct": d(child_ordinary), f"{PREDICT} similarity": d(child_po)}}
    if control_po is not None:
        diffs["control"] = {f"{ORDINARY} correct": d((0, -0.1, 0.1)), f"{PREDICT} similarity": d((0, -0.1, 0.1))}
        diffs["child-control"] = {f"{ORDINARY} correct": d((0, -0.1, 0.1)), f"{PREDICT} similarity": d(control_po)}
    return {"diffs": diffs}


def test_findings_name_a_regression_and_an_indistinguishable_lift():
    lines = findings(_report((-0.125, -0.21, -0.04), (0.2, 0.1, 0.3), control_po=(0.05, -0.02, 0.12)))
    assert lines[0] == "REGRESSION: ordinary questions -12.5 [-21.0, -4.0] points"
    assert "NOT distinguishable from the control" in lines[1]
    lines = findings(_report((-0.05, -0.15, 0.04), (0.2, 0.1, 0.3), control_po=(0.15, 0.05, 0.25)))
    assert not any("REGRESSION" in x for x in lines)  # a dip inside its interval is not a regression
    assert "distinguishable from the control" in lines[0] and "NOT" not in lines[0]
    lines = findings(_report((0.0, -0.1, 0.1), (0.02, -0.03, 0.07)))
    assert "not distinguishable from zero" in lines[0] and "--control shuffled" in lines[0]


def test_the_embedded_model_against_itself_differs_by_zero(tmp_path):
    """Real model, real sandbox: the same checkpoint asked the same tasks with the same seeds
    (greedy and sampled) answers identically, so every difference is 0 with an interval on 0."""
    smol = BUILTIN_VARIANTS["smol-cold"]
    report = evaluate(smol, {"child": smol}, n_tasks=1, cache=None, log=lambda _: None)
    assert report["tasks"] == {PREDICT: 1, ORDINARY: 1}
    parent, child = report["answers"]["parent"], report["answers"]["child"]
    assert set(parent) == set(child) and len(parent) == 2
    for tid in parent:
        for mode in MODES:
            assert parent[tid][mode]["text"].strip()
            assert parent[tid][mode]["text"] == child[tid][mode]["text"]  # replayed exactly, not cached
    diffs = report["diffs"]["child"]
    assert set(diffs) == {f"{PREDICT} similarity", f"{PREDICT} exact", f"{ORDINARY} correct"}
    for d in diffs.values():
        assert d["mean"] == 0 and d["lo"] <= 0 <= d["hi"]
        assert all(d[m]["mean"] == 0 for m in MODES)
    # truths are what the sandbox printed; the report is JSON and prints as a table
    assert all(isinstance(t, str) and t for k, t in report["truths"].items() if k.startswith("po-"))
    json.dumps(report)
    text = "\n".join(table(report))
    assert "predict-output similarity" in text and "+0.000 [+0.000, +0.000]" in text

