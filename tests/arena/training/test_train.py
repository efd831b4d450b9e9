"""`arena train` / `arena loop`: DPO on exported pairs, written back to a GGUF that llama.cpp
serves, registered as a variant that plays its ancestors.

The training tests run only when the training extras are installed (torch, transformers,
trl, peft, datasets, gguf); each keeps to a couple of optimizer steps on the embedded model.
"""
import json
import os
from pathlib import Path

import pytest

from arena import plugins
from arena.cli import main
from arena.records import PLAYER, Entry, MatchResult, RankedSet

EXTRAS = all(__import__("importlib").util.find_spec(m) for m in ("torch", "transformers", "trl", "peft", "datasets",
                                                                  "gguf"))
needs_extras = pytest.mark.skipif(not EXTRAS, reason="training extras not installed (pip install 'arena[train]')")


def test_train_rejects_bad_input_in_one_line(tmp_path, capsys):
    pairs = tmp_path / "p.jsonl"
    pairs.write_text(json.dumps({"prompt": "hi", "chosen": "a", "rejected": "b"}) + "\n")
    cases = [["--pairs", str(tmp_path / "missing.jsonl"), "--base", "smol-cold"],
             ["--pairs", str(pairs), "--base", "smol-cold"],  # standard format: export dpo writes conversational
             ["--pairs", str(pairs), "--base", "random"],  # not a local model
             ["--pairs", str(pairs), "--base", "nobody"],
             ["--pairs", str(pairs), "--base", "smol-cold", "--lr", "0"]]
    for argv in cases:
        assert main(["train", *argv, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("arena: ")
    assert not (tmp_path / "o" / "variant.toml").exists()


@needs_extras
def test_gguf_write_back_keeps_the_model_exact(tmp_path):
    """Unchanged tensors are copied byte for byte; rewritten ones (names, q/k row order, F16)
    give llama.cpp the same log-probabilities as the original file."""
    import gguf
    from llama_cpp import Llama

    from arena.training.gguf import completion_logprob, write_merged_gguf
    from arena.training.train import load_model, load_tokenizer
    from players.local import default_gguf

    src = default_gguf()
    model = load_model(src)
    state = model.state_dict()
    same = write_merged_gguf(src, state, tmp_path / "same.gguf")
    assert not same.changed and len(same.copied) == len(gguf.GGUFReader(str(src)).tensors)
    assert (tmp_path / "same.gguf").stat().st_size == src.stat().st_size
    full = write_merged_gguf(src, state, tmp_path / "f16.gguf", rewrite_all=True, name="round-trip")
    assert not full.copied

    tok = load_tokenizer(src)
    msgs = [{"role": "user", "content": "Name three rivers in Europe."}]
    prompt = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    text = tok.apply_chat_template(msgs + [{"role": "assistant", "content": "The Danube, the Rhine and the Seine."}],
                                   tokenize=False)
    lps = []
    for path in (src, tmp_path / "f16.gguf"):
        llm = Llama(model_path=str(path), n_ctx=256, logits_all=True, verbose=False)
        lps.append(completion_logprob(llm, prompt, text))
        llm.close()
    assert lps[0] < -1 and abs(lps[0] - lps[1]) < 0.05 * abs(lps[0])
    assert gguf.GGUFReader(str(tmp_path / "f16.gguf")).fields["general.name"].contents() == "round-trip"


@needs_extras
@pytest.mark.parametrize("kind", ["q4_1", "q5_1"])
def test_changed_tensors_requantized_to_the_bases_bits_load_in_llama_cpp(tmp_path, kind):
    """A child written with its changed tensors in 4 or 5 bits is as small as the base, and
    llama.cpp loads it, answers, and scores text as the base does (the delta here is tiny)."""
    import gguf
    import torch

    from arena.training.gguf import verify, write_merged_gguf
    from arena.training.train import LORA_TARGETS, load_model
    from players.local import default_gguf

    src = default_gguf()
    state = load_model(src).state_dict()
    gen = torch.Generator().manual_seed(0)
    for key, w in state.items():
        if any(f".{t}." in key for t in LORA_TARGETS):
            state[key] = w + 1e-3 * w.abs().mean() * torch.randn(w.shape, generator=gen)
    report = write_merged_gguf(src, state, tmp_path / f"{kind}.gguf", changed_type=kind)
    assert len(report.changed) == 210
    reader = gguf.GGUFReader(str(tmp_path / f"{kind}.gguf"))
    types = {t.name: t.tensor_type.name for t in reader.tensors}
    assert {types[n] for n in report.changed} == {kind.upper()}
    assert report.bytes < 1.25 * src.stat().st_size
    text, speed = verify(tmp_path / f"{kind}.gguf")
    assert text.strip() and speed > 0


def test_train_and_loop_write_changed_tensors_as_q8_0_by_default():
    """F16 children decoded at about half the Q4_1 base's speed; Q8_0 keeps ~98% of a trained
    log-prob margin (Q4_1 and Q5_1 lose most or half of it: bench/checkpoint.py)."""
    import argparse

    from arena.cli.train import _train_arguments, _train_overrides
    from arena.training.train import TrainOptions

    parser = argparse.ArgumentParser()
    _train_arguments(parser)
    assert _train_overrides(parser.parse_args([]))["gguf_type"] == "q8_0" == TrainOptions.gguf_type
    assert _train_overrides(parser.parse_args(["--gguf-type", "f16"]))["gguf_type"] == "f16"


def test_loop_rejects_bad_input_in_one_line(tmp_path, capsys):
    mocks = tmp_path / "mocks.toml"
    mocks.write_text('[tournament]\nplayers = ["random", "first"]\n')
    local = tmp_path / "local.toml"
    local.write_text('[tournament]\nplayers = ["smol-cold", "random"]\n')
    cases = [[str(mocks)],  # nothing local to train
             [str(local), "--base", "random"],
             [str(local), "--base", "smol-warm"],  # not a player: would never be rated
             [str(local), "--eval", "no-such-family"],
             [str(local), "--iterations", "0"],
             [str(local), "--eval-rounds", "0"],
             [str(tmp_path / "missing.toml")]]
    for argv in cases:
        assert main(["loop", *argv, "--run-dir", str(tmp_path / "run"), "--display", "none"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("arena: ")
    assert not (tmp_path / "run" / "arena.sqlite").exists()  # nothing was played


# A tiny open-ended family for the loop test: one line each, ranked procedurally.
class _Lines:
    name, seats, open_ended = "lines", 2, True

    async def play(self, ctx):
        prompt = [{"role": "user", "content": ctx.task_prompt("Write one vivid line about the sea.")}]
        entries = []
        for seat, v in enumerate(ctx.seats):
            text = (await ctx.ask(v, PLAYER, prompt, max_tokens=20)).text
            words = text.lower().split()
            entries.append(Entry(v, text, 0, len(set(words)) + len(text) / 1000, seat))
        order = sorted(range(len(entries)), key=lambda i: -entries[i].score)
        for rank, i in enumerate(order):
            entries[i].rank = rank
        return MatchResult([RankedSet(PLAYER, prompt, entries)], summary="lines")


def create_lines(options):
    return _Lines()


@needs_extras
def test_loop_trains_a_checkpoint_that_plays_its_ancestors(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(plugins.registered(plugins.FAMILIES), "lines", f"{__name__}:create_lines")
    cfg = tmp_path / "loop.toml"
    cfg.write_text('[tournament]\nname = "t"\nfamilies = ["lines"]\nplayers = ["smol-cold", "smol-warm"]\n')
    run_dir = tmp_path / "run"
    argv = ["loop", str(cfg), "--iterations", "1", "--run-dir", str(run_dir), "--display", "none",
            "--max-steps", "2", "--batch-size", "1", "--grad-accum", "1", "--lr", "5e-4", "--no-embeddings",
            "--eval-tasks", "0", "--no-guard"]  # the proof of a generation: tests/arena/training/test_loop_proof.py
    assert main(argv) == 0
    out = capsys.readouterr().out
    gen = run_dir / "loop" / "gen1"
    pairs = [json.loads(x) for x in (gen / "pairs.jsonl").read_text().splitlines()]
    assert pairs and all(p["prompt"][0]["content"].startswith("UNLEASHED: ") for p in pairs)

    # registered: a [[variants]] entry for the local backend, pointing at a GGUF llama.cpp runs
    toml = (gen / "variant.toml").read_text()
    assert 'name = "smol-cold-g1"' in toml and "model = \"local/" in toml
    gguf_path = Path(toml.split('model = "local/')[1].split('"')[0])
    assert gguf_path.is_file() and gguf_path.suffix == ".gguf"
    # by default the changed tensors are Q8_0: the child stays near the base's size and speed
    import gguf

    from players.local import default_gguf
    kinds = {t.tensor_type.name for t in gguf.GGUFReader(str(gguf_path)).tensors}
    assert "Q8_0" in kinds and "F16" not in kinds
    assert gguf_path.stat().st_size < 1.6 * default_gguf().stat().st_size
    report = json.loads((gen / "train.json").read_text())
    assert report["steps"] == 2 and report["sample"].strip()
    # the preference moved the GGUF: chosen answers got likelier relative to rejected ones
    assert report["margin_after"] > report["margin_before"]

    # the new checkpoint played its ancestors and has a rating with its uncertainty
    import sqlite3
    db = sqlite3.connect(run_dir / "arena.sqlite")
    calls = db.execute("SELECT COUNT(*), SUM(output_tokens) FROM calls WHERE variant='smol-cold-g1' AND error IS NULL")
    n, tokens = calls.fetchone()
    assert n >= 2 and tokens > 0
    row = next(line for line in out.splitlines() if "smol-cold-g1" in line and line.strip().startswith("1"))
    assert "smol-cold-g1" in row
    rating = db.execute("SELECT mu, sigma, matches FROM ratings WHERE variant='smol-cold-g1' AND role='player' "
                        "AND family='*'").fetchone()
    from arena.training.loop import RATING_ROUNDS
    assert rating[2] == 2 * RATING_ROUNDS and rating[1] < 25 / 3  # the rating tournament: g1 and its parent

    # re-running the same command resumes: nothing is retrained or replayed
    mtime = os.path.getmtime(gguf_path)
    assert main(argv) == 0
    assert "reusing smol-cold-g1" in capsys.readouterr().out and os.path.getmtime(gguf_path) == mtime
