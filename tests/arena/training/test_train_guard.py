"""The control arm's swap and the forgetting guard's pairs, as `arena train` reads them."""
from __future__ import annotations

import json

import pytest

from arena.cli import main
from arena.training.guard import pairs_from_answers
from arena.training.ordinary import split
from arena.training.train import ANCHOR, load_pairs, rpo, swap_half


def _row(i, family="predict-output"):
    return {"prompt": [{"role": "user", "content": f"q{i}"}], "chosen": [{"role": "assistant", "content": f"good{i}"}],
            "rejected": [{"role": "assistant", "content": f"bad{i}"}], "family": family}


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_every_anchor_pair_survives_the_pair_cap(tmp_path):
    path = _write(tmp_path / "p.jsonl", [_row(i) for i in range(10)] + [_row(100 + i, ANCHOR) for i in range(4)])
    rows = load_pairs(path, "sys", 3, 0)
    assert len(rows) == 7 and sum(bool(r.get(ANCHOR)) for r in rows) == 4
    assert all(r["prompt"][0] == {"role": "system", "content": "sys"} for r in rows)
    assert load_pairs(path, None, 3, 0) == load_pairs(path, None, 3, 0)  # the same subsample every time


def test_the_control_swaps_exactly_the_seeded_half_and_keeps_everything_else(tmp_path):
    path = _write(tmp_path / "p.jsonl", [_row(i) for i in range(9)] + [_row(100 + i, ANCHOR) for i in range(2)])
    rows = load_pairs(path, None, None, 0)
    swapped, n = swap_half(rows, seed=5)
    assert n == 4  # half of the 9 arena pairs, rounded down; the 2 anchors never
    flipped = [i for i, (a, b) in enumerate(zip(rows, swapped)) if a["chosen"] != b["chosen"]]
    assert len(flipped) == 4 and all(not rows[i].get(ANCHOR) for i in flipped)
    for a, b in zip(rows, swapped):
        assert a["prompt"] == b["prompt"]
        assert (b["chosen"], b["rejected"]) in ((a["chosen"], a["rejected"]), (a["rejected"], a["chosen"]))
    assert swap_half(rows, seed=5) == (swapped, 4)  # seeded: the same half every time
    others = {tuple(i for i, (a, b) in enumerate(zip(rows, swap_half(rows, seed=s)[0])) if a != b)
              for s in range(6)}
    assert len(others) > 1  # another seed, another half
    assert rows == load_pairs(path, None, None, 0)  # the input rows are left as they were


def test_rpo_alpha_reaches_trl_as_an_nll_term_on_chosen(tmp_path):
    pytest.importorskip("trl")
    from trl import DPOConfig
    assert rpo(0) == {}
    cfg = DPOConfig(output_dir=str(tmp_path), use_cpu=True, report_to=[], **rpo(0.5))
    if hasattr(cfg, "rpo_alpha"):
        assert cfg.rpo_alpha == 0.5
    else:
        assert list(cfg.loss_type) == ["sigmoid", "sft"] and list(cfg.loss_weights) == [1.0, 0.5]


def test_anchor_pairs_keep_the_parents_own_right_answers():
    items = split("train", 4)
    right = [i.answers[0] for i in items]
    answers = [[f"It is {right[0]}.", "no idea", f"{right[0]}!"],  # right and wrong: right over wrong
               [right[1], right[1], right[1]],  # always right: right over an off-task answer
               ["no idea", "nothing", "hmm"],  # never right: nothing of its own to keep
               ["gibberish", right[3], "zzz"]]
    pairs = pairs_from_answers(items, answers, "smol", 10)
    by_prompt = {p["prompt"][0]["content"]: p for p in pairs}
    assert set(by_prompt) == {items[0].prompt, items[1].prompt, items[3].prompt}
    first = by_prompt[items[0].prompt]
    assert first["chosen"][0]["content"] == f"{right[0]}!" and first["rejected"][0]["content"] == "no idea"
    off = by_prompt[items[1].prompt]
    assert off["rejected"][0]["content"] == "no idea" and off["criterion"] == "off-task answer"
    assert all(p["family"] == ANCHOR and p["chosen_variant"] == "smol" for p in pairs)
    assert items[0].correct(first["chosen"][0]["content"]) and not items[0].correct(first["rejected"][0]["content"])
    assert len(pairs_from_answers(items, answers, "smol", 1)) == 1


def test_loop_and_train_reject_bad_proof_options_in_one_line(tmp_path, capsys):
    local = tmp_path / "local.toml"
    local.write_text('[tournament]\nplayers = ["smol-cold", "random"]\n')
    pairs = _write(tmp_path / "p.jsonl", [_row(0)])
    cases = [["loop", str(local), "--eval-tasks", "-1"],
             ["loop", str(local), "--eval-tasks", "many"],
             ["loop", str(local), "--control", "reversed"],
             ["loop", str(local), "--anchor-ratio", "-0.5"],
             ["loop", str(local), "--rpo-alpha", "-1"],
             ["loop", str(local), "--rpo-alpha", "nan"],
             ["train", "--pairs", str(pairs), "--base", "smol-cold", "--out", str(tmp_path / "o"), "--rpo-alpha", "-2"]]
    for argv in cases:
        extra = ["--run-dir", str(tmp_path / "run"), "--display", "none"] if argv[0] == "loop" else []
        assert main([*argv, *extra]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("arena: "), err
    assert not (tmp_path / "run" / "arena.sqlite").exists() and not (tmp_path / "o").exists()
