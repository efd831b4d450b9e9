"""`arena loop` proves each generation: a control twin trained on the same pairs with half of
them swapped, anchor pairs from the ordinary questions against forgetting, and a paired
held-out evaluation of child and control against their parent, stored and printed.

Trains twice and evaluates three models, each at its smallest (1 optimizer step, 1 task per
set): minutes on 2 cores. Runs only with the training extras, like tests/arena/training/test_train.py.
"""
from __future__ import annotations

import json

from arena import plugins
from arena.cli import main
from tests.arena.training.test_train import needs_extras


@needs_extras
def test_loop_trains_a_control_twin_and_evaluates_both_against_the_parent(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(plugins.registered(plugins.FAMILIES), "lines", "tests.arena.training.test_train:create_lines")
    cfg = tmp_path / "loop.toml"
    cfg.write_text('[tournament]\nname = "t"\nfamilies = ["lines"]\nplayers = ["smol-cold", "smol-warm"]\n')
    run_dir = tmp_path / "run"
    argv = ["loop", str(cfg), "--run-dir", str(run_dir), "--display", "none", "--max-steps", "1", "--batch-size", "1",
            "--grad-accum", "1", "--no-embeddings", "--eval-tasks", "1", "--control", "shuffled",
            "--anchor-ratio", "0.5", "--eval", "none"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    gen = run_dir / "loop" / "gen1"

    # the guard: anchor pairs from the ordinary questions' train split joined the arena pairs
    rows = [json.loads(x) for x in (gen / "pairs.jsonl").read_text().splitlines()]
    anchors = [r for r in rows if r["family"] == "anchor"]
    arena = [r for r in rows if r["family"] != "anchor"]
    assert arena and "anchor pairs from the ordinary questions' train split" in out
    child, control = (json.loads((d / "train.json").read_text()) for d in (gen, gen / "control"))
    assert child["anchors"] == control["anchors"] == len(anchors)
    assert child["swapped"] == 0 and control["swapped"] == len(arena) // 2  # same pairs, a seeded half swapped
    assert control["variant"]["name"] == "smol-cold-g1-control"

    # the paired evaluation: stored per generation, child and control against the same parent
    report = json.loads((gen / "eval.json").read_text())
    assert {k: m["variant"] for k, m in report["models"].items()} == {
        "parent": "smol-cold", "child": "smol-cold-g1", "control": "smol-cold-g1-control"}
    assert set(report["diffs"]) == {"child", "control", "child-control"}
    assert report["tasks"] == {"predict-output": 1, "ordinary": 1}
    for d in report["diffs"]["child"].values():
        assert d["lo"] <= d["mean"] <= d["hi"] and d["n"] == 1
    # printed at the end: child - parent and control - parent with intervals, and what they mean
    tail = out[out.index("paired held-out evaluation, mean [95% bootstrap interval]"):]
    assert "child - parent" in tail and "control - parent" in tail and "predict-output similarity" in tail
    assert "distinguishable from the control" in tail

    # re-running resumes: the control and the evaluation are reused, not redone
    assert main(argv) == 0
    again = capsys.readouterr().out
    assert "reusing control smol-cold-g1-control" in again and "reusing the evaluation" in again
