"""`arena export dpo`: ranked sets of every role become TRL conversational preference pairs."""
import copy
import json
import time
from pathlib import Path

import pytest

from arena import plugins
from arena.cli import main
from arena.engine.store import Store
from arena.records import AUTHOR, META_REFEREE, PLAYER, REFEREE, Entry, MatchResult, RankedSet, ScheduledMatch
from arena.training.export import ExportOptions, export_dpo


class _Fam:
    def __init__(self, open_ended: bool):
        self.name, self.seats, self.open_ended = "x", 2, open_ended


def create_story(options):  # an open-ended family, registered for these tests only
    return _Fam(True)


def create_quiz(options):
    return _Fam(False)


@pytest.fixture(autouse=True)
def families(monkeypatch):
    monkeypatch.setitem(plugins.registered(plugins.FAMILIES), "story", f"{__name__}:create_story")
    monkeypatch.setitem(plugins.registered(plugins.FAMILIES), "quiz", f"{__name__}:create_quiz")


def U(text):
    return [{"role": "user", "content": text}]


def sets_story():
    return [
        # players, stored without the prefix: the export adds it (open-ended family)
        RankedSet(PLAYER, U("Write a two-line poem about rain."), [
            Entry("a", "Rain taps the glass like fingers counting time,\nthe street forgets its dust.", 0, None, 0),
            Entry("b", "It rains. Rain is wet.", 1, None, 1)]),
        # authors: tasks ranked by referees
        RankedSet(AUTHOR, U("Invent a programming challenge."), [
            Entry("a", "Build a rate limiter for a real HTTP API with burst credits.", 1),
            Entry("b", "Write a CSV diff tool that reports moved rows and changed cells.", 0)], "quality", 0.8),
        # referees' rankings, ranked by meta-referees
        RankedSet(REFEREE, U("Rank these two poems."), [
            Entry("judge1", "B is better: it has an image and a turn.", 1),
            Entry("judge2", "A is better: 'fingers counting time' is vivid, B is flat.", 0)], "judging", 0.5),
        # meta-referees' rankings, ranked one level up
        RankedSet(META_REFEREE, U("Which referee judged better?"), [
            Entry("meta1", "judge2 explained its choice with evidence.", 0),
            Entry("meta2", "judge1.", 1)], "judging"),
        # a tie and an identical pair: never exported
        RankedSet(PLAYER, U("Say something."), [Entry("a", "Hello there.", 0), Entry("b", "Goodbye, friend.", 0)],
                  "quality"),
        RankedSet(PLAYER, U("Say hi."), [Entry("a", "hi", 0), Entry("b", " hi ", 1)], "quality"),
    ]


def sets_quiz():
    # stored WITH the prefix by mistake: the export of a closed family drops it
    return [RankedSet(PLAYER, U("UNLEASHED: What is 6*7?"), [
        Entry("a", "42", 0, 1.0), Entry("b", "The answer is 41.", 1, 0.0)])]


def sets_chess():
    return [RankedSet(PLAYER, U("Play a game of chess."), [Entry("a", "e4 e5", 0, 1.0, 0), Entry("b", "e5", 1, 0.0, 1)],
                      exportable=False)]


def commit(store, tid, family, seq, sets):
    m = ScheduledMatch(f"{tid}-m{seq}", tid, family, ("a", "b"), 0, 0, seq, seq)
    store.commit_match(m, MatchResult(sets), [], [], time.time())


def make_run(run_dir: Path, extra=()) -> Path:
    store = Store(run_dir)
    store.ensure_tournament("t1", "t", {"name": "t"}, 4, {})
    commit(store, "t1", "story", 0, sets_story())
    commit(store, "t1", "quiz", 1, sets_quiz())
    commit(store, "t1", "chess", 2, sets_chess())
    for i, (family, sets) in enumerate(extra, 3):
        commit(store, "t1", family, i, sets)
    store.close()
    return run_dir


def read(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_export_holds_every_role_and_never_a_tie_or_identical_pair(tmp_path):
    run = make_run(tmp_path / "run")
    stats = export_dpo(run, tmp_path / "p.jsonl", ExportOptions(embeddings=False))
    rows = read(tmp_path / "p.jsonl")
    assert {r["role"] for r in rows} == {PLAYER, AUTHOR, REFEREE, META_REFEREE}
    assert len(rows) == stats.pairs == 5  # poem, task, referee, meta-referee, quiz
    for r in rows:
        assert r["chosen"] != r["rejected"] and r["chosen_rank"] < r["rejected_rank"]
        assert r["chosen"][0]["role"] == r["rejected"][0]["role"] == "assistant"
        assert r["prompt"][-1]["role"] == "user"
    assert stats.skipped["all-tied sets"] == 1 and stats.skipped["identical chosen/rejected"] == 1
    assert stats.skipped["sets not exportable (whole games or transcripts)"] == 1
    author = next(r for r in rows if r["role"] == AUTHOR)
    assert author["chosen"][0]["content"].startswith("Write a CSV diff tool")  # rank 0 wins even listed second
    assert author["agreement"] == 0.8 and author["criterion"] == "quality" and author["margin"] == 1.0
    assert author["chosen_variant"] == "b" and author["rejected_variant"] == "a" and author["match_id"] == "t1-m0"
    quiz = next(r for r in rows if r["family"] == "quiz")
    assert quiz["margin_kind"] == "score" and quiz["margin"] == 1.0


def test_unleashed_prefix_exactly_on_open_ended_families(tmp_path):
    run = make_run(tmp_path / "run")
    export_dpo(run, tmp_path / "p.jsonl", ExportOptions(embeddings=False))
    for r in read(tmp_path / "p.jsonl"):
        first_user = next(m["content"] for m in r["prompt"] if m["role"] == "user")
        assert first_user.startswith("UNLEASHED: ") == (r["family"] == "story") == r["unleashed"]
        assert not first_user.startswith("UNLEASHED: UNLEASHED")
    # the config's [tournament] unleashed table overrides the family, both ways
    export_dpo(run, tmp_path / "q.jsonl", ExportOptions(embeddings=False),
               config_unleashed={"story": False, "quiz": True})
    for r in read(tmp_path / "q.jsonl"):
        first_user = next(m["content"] for m in r["prompt"] if m["role"] == "user")
        assert first_user.startswith("UNLEASHED: ") == (r["family"] == "quiz")


def ranked4():
    texts = ["A bold essay on tides and memory.", "A tidy summary of tides for kids.",
             "Tides are caused by the moon.", "tide tide tide tide"]
    return RankedSet(PLAYER, U("Write about tides."), [Entry(f"v{i}", t, i) for i, t in enumerate(texts)], "quality")


@pytest.mark.parametrize("mode,expected", [("best-worst", [(0, 3)]), ("adjacent", [(0, 1), (1, 2), (2, 3)]),
                                           ("all", [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)])])
def test_pair_selection_modes(tmp_path, mode, expected):
    run = tmp_path / "run"
    store = Store(run)
    store.ensure_tournament("t1", "t", {}, 1, {})
    commit(store, "t1", "quiz", 0, [ranked4()])
    store.close()
    export_dpo(run, tmp_path / "p.jsonl", ExportOptions(pairs=mode, embeddings=False))
    got = sorted((r["chosen_rank"], r["rejected_rank"]) for r in read(tmp_path / "p.jsonl"))
    assert got == expected


def test_min_margin_drops_close_calls(tmp_path):
    rs = RankedSet(PLAYER, U("Estimate pi."), [Entry("a", "3.14159", 0, 0.9), Entry("b", "3.1", 1, 0.8),
                                                 Entry("c", "about four", 2, 0.1)], "accuracy")
    run = make_run(tmp_path / "run", [("quiz", [rs])])
    export_dpo(run, tmp_path / "p.jsonl", ExportOptions(pairs="adjacent", min_margin=0.5, roles=(PLAYER,),
                                                        families=("quiz",), embeddings=False))
    rows = read(tmp_path / "p.jsonl")
    # the 6*7 quiz (margin 1.0) and b > c (0.7) stay; a > b (0.1) is dropped
    assert sorted(r["margin"] for r in rows) == [0.7, 1.0]


def test_near_duplicates_lose_ties_and_are_preferred_as_rejected(tmp_path):
    rs = RankedSet(PLAYER, U("Name a use for a brick."), [
        Entry("x", "Use it as a doorstop.", 0),
        Entry("y", "Grind it into pigment for red paint.", 0),
        Entry("z", "Use it as a doorstop!", 1),   # near-duplicate of x
        Entry("w", "Build a tiny oven for pizza.", 1)], "creativity")
    run = tmp_path / "run"
    store = Store(run)
    store.ensure_tournament("t1", "t", {}, 1, {})
    commit(store, "t1", "quiz", 0, [rs])
    store.close()
    export_dpo(run, tmp_path / "p.jsonl", ExportOptions(pairs="best-worst", embeddings=False))
    [row] = read(tmp_path / "p.jsonl")
    # chosen: the original answer among the winners; rejected: the copy among the losers
    assert row["chosen_variant"] == "y" and row["rejected_variant"] == "z"
    export_dpo(run, tmp_path / "all.jsonl", ExportOptions(pairs="all", embeddings=False))
    rows = read(tmp_path / "all.jsonl")
    tiebreaks = {(r["chosen_variant"], r["rejected_variant"]) for r in rows if r["tiebreak"] == "diversity"}
    assert tiebreaks == {("y", "x"), ("w", "z")}  # a near-duplicate loses the tie inside its rank
    assert all(r["margin"] == 0.0 for r in rows if r["tiebreak"])
    export_dpo(run, tmp_path / "plain.jsonl", ExportOptions(pairs="all", diversity=False, embeddings=False))
    assert all(r["tiebreak"] is None and r["chosen_rank"] < r["rejected_rank"] for r in read(tmp_path / "plain.jsonl"))


def test_mix_interlaces_preference_rows_and_refuses_bare_instructions(tmp_path, capsys):
    run = make_run(tmp_path / "run")
    mix = tmp_path / "mix.jsonl"
    mix.write_text("\n".join(json.dumps(r) for r in [
        {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon."},
        {"prompt": [{"role": "user", "content": "2+2?"}], "chosen": [{"role": "assistant", "content": "4"}],
         "rejected": [{"role": "assistant", "content": "5"}]},
        {"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}],
         "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "What."}]},
        {"prompt": "Largest planet?", "chosen": "Jupiter.", "rejected": "Mars."},
    ]) + "\n")
    out = tmp_path / "p.jsonl"
    assert main(["export", "dpo", "--run-dir", str(run), "--out", str(out), "--mix", str(mix), "--mix-ratio", "0.4",
                 "--no-embeddings"]) == 0
    rows = read(out)
    mixed = [r for r in rows if r["source"] == "mix.jsonl"]
    assert len(rows) == 7 and len(mixed) == 2  # 5 arena pairs + round(0.4 * 5)
    assert rows[0]["source"] == "arena" and rows[-1]["source"] == "arena"  # spread, not appended
    for r in mixed:
        assert isinstance(r["prompt"], list) and r["chosen"][0]["role"] == "assistant"
    assert "5 pairs" in capsys.readouterr().out

    mix.write_text(json.dumps({"instruction": "Say hi", "output": "Hi!"}) + "\n")
    assert main(["export", "dpo", "--run-dir", str(run), "--out", str(out), "--mix", str(mix)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--mix-rejected" in err


def test_instruction_rows_answered_by_a_variant_become_pairs(tmp_path):
    run = make_run(tmp_path / "run")
    mix = tmp_path / "mix.jsonl"
    mix.write_text(json.dumps({"instruction": "Say hi", "output": "Hi!"}) + "\n"
                   + json.dumps({"prompt": "Count to three", "response": "1, 2, 3"}) + "\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[variants]]\nname = "lazy"\nmodel = "mock/constant"\ntext = "no"\n')
    out = tmp_path / "p.jsonl"
    assert main(["export", "dpo", "--run-dir", str(run), "--out", str(out), "--mix", str(mix), "--mix-rejected", "lazy",
                 "--config", str(cfg), "--no-embeddings"]) == 0
    mixed = [r for r in read(out) if r["source"] == "mix.jsonl"]
    got = {(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in mixed}
    assert got == {("Hi!", "no"), ("1, 2, 3", "no")}


def test_bad_input_is_one_line(tmp_path, capsys):
    run = make_run(tmp_path / "run")
    for argv in (["--role", "wizard"], ["--min-margin", "-1"], ["--unleashed", "story"],
                 ["--mix", str(tmp_path / "missing.jsonl")]):
        assert main(["export", "dpo", "--run-dir", str(run), "--out", str(tmp_path / "o.jsonl"), *argv]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["export", "dpo", "--run-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert not (tmp_path / "o.jsonl").exists()
    store = Store(tmp_path / "unknown")
    store.ensure_tournament("t1", "t", {}, 1, {})
    commit(store, "t1", "mystery", 0, [ranked4()])
    store.close()
    assert main(["export", "dpo", "--run-dir", str(tmp_path / "unknown"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "--unleashed mystery=" in capsys.readouterr().err


def test_parquet_round_trip(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    run = make_run(tmp_path / "run")
    export_dpo(run, tmp_path / "p.parquet", ExportOptions(embeddings=False))
    table = pq.read_table(tmp_path / "p.parquet").to_pylist()
    assert table == read_jsonl_export(run, tmp_path)


def read_jsonl_export(run, tmp_path):
    export_dpo(run, tmp_path / "same.jsonl", ExportOptions(embeddings=False))
    return read(tmp_path / "same.jsonl")


def test_trl_tokenizes_the_export_unchanged(tmp_path):
    """The file loads with datasets.load_dataset('json') and TRL's DPOTrainer tokenizes every row."""
    pytest.importorskip("trl")
    datasets = pytest.importorskip("datasets")
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl import DPOConfig, DPOTrainer

    from arena.training.train import load_tokenizer, no_checkpointing
    from players.local import default_gguf

    run = make_run(tmp_path / "run")
    mix = tmp_path / "mix.jsonl"
    mix.write_text(json.dumps({"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon."}) + "\n")
    out = tmp_path / "pairs.jsonl"
    assert main(["export", "dpo", "--run-dir", str(run), "--out", str(out), "--mix", str(mix), "--no-embeddings"]) == 0
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    tok = load_tokenizer(default_gguf())
    # The real tokenizer of the embedded model; a tiny untrained model, since only tokenization is under test.
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id))
    args = DPOConfig(output_dir=str(tmp_path / "o"), report_to=[], bf16=False, use_cpu=True, max_length=512,
                     **no_checkpointing())
    trainer = DPOTrainer(model=model, ref_model=copy.deepcopy(model), args=args, train_dataset=ds, processing_class=tok)
    tokenized = trainer.train_dataset
    assert len(tokenized) == len(ds) == 6
    for row, t in zip(ds, tokenized):
        assert tok.decode(t["chosen_ids"]).startswith(row["chosen"][0]["content"])
        assert tok.decode(t["rejected_ids"]).startswith(row["rejected"][0]["content"])
        assert row["prompt"][-1]["content"] in tok.decode(t["prompt_ids"])


def test_a_chess_tournament_exports_its_corrected_moves_without_moving_ratings(tmp_path):
    from arena.config import parse_config
    from arena.engine.runner import run
    script = ["Ke2", "e4", "d4", "Nc3", "Nf3", "Bc4", "O-O"]  # one illegal first answer, then legal
    cfg = parse_config({"tournament": {"families": ["chess"], "players": ["flaky", "random"], "seed": 3},
                        "families": {"chess": {"max_plies": 6}},
                        "variants": [{"name": "flaky", "model": "mock/script", "script": script}]})
    summary = run(cfg, tmp_path / "run")
    assert summary.finished == 2
    stats = export_dpo(tmp_path / "run", tmp_path / "p.jsonl", ExportOptions(embeddings=False))
    rows = read(tmp_path / "p.jsonl")
    assert stats.pairs == len(rows) >= 1 and {r["criterion"] for r in rows} == {"legal-move"}
    for r in rows:
        assert r["family"] == "chess" and not r["unleashed"] and r["chosen_variant"] == r["rejected_variant"] == "flaky"
        assert r["rejected"][0]["content"] == "Ke2" and r["chosen"][0]["content"] != "Ke2"
        assert "Legal moves:" in r["prompt"][-1]["content"]
    overall = {r.variant: r for r in summary.ratings if r.family == "*" and r.role == PLAYER}
    assert overall["flaky"].matches == 2  # the games, not the corrections, are rated


def test_every_pair_says_who_ranked_it_the_scores_and_whether_chosen_is_verified(tmp_path):
    executed = RankedSet(PLAYER, U("What does print(6*7) print?"), [
        Entry("a", "42", 0, 1.0, 0, verified=True), Entry("b", "41", 1, 0.9, 1)], "outcome",
        ranked_by="execution")
    judged = RankedSet(PLAYER, U("Name a colour."), [Entry("a", "Teal.", 0), Entry("b", "Blue.", 1)], "quality",
                       0.5, ranked_by="referees:r1,r2")
    run = tmp_path / "run"
    store = Store(run)
    store.ensure_tournament("t1", "t", {}, 1, {})
    commit(store, "t1", "quiz", 0, [executed, judged])
    store.close()
    export_dpo(run, tmp_path / "p.jsonl", ExportOptions(embeddings=False))
    rows = {r["criterion"]: r for r in read(tmp_path / "p.jsonl")}
    ex, ju = rows["outcome"], rows["quality"]
    assert (ex["ranked_by"], ex["chosen_score"], ex["rejected_score"], ex["chosen_verified"]) == \
        ("execution", 1.0, 0.9, True)
    assert (ju["ranked_by"], ju["chosen_score"], ju["rejected_score"], ju["chosen_verified"]) == \
        ("referees:r1,r2", None, None, False)
    assert set(ex) >= {"prompt", "chosen", "rejected"}  # TRL's columns unchanged


def test_stores_written_before_provenance_still_load_and_export(tmp_path):
    from arena.records import ranked_set_from_dict
    old = {"role": PLAYER, "prompt": U("Say hi."), "criterion": "quality", "agreement": None, "rated": True,
           "entries": [{"variant": "a", "text": "Hello!", "rank": 0, "score": None, "seat": 0},
                       {"variant": "b", "text": "...", "rank": 1, "score": None, "seat": 1}]}
    rs = ranked_set_from_dict(old)
    assert rs.exportable and rs.ranked_by == "" and [e.prompt for e in rs.entries] == [None, None]
    assert not any(e.verified for e in rs.entries)
    run = tmp_path / "run"
    store = Store(run)
    store.ensure_tournament("t1", "t", {}, 1, {})
    commit(store, "t1", "quiz", 0, [rs])
    store.close()
    export_dpo(run, tmp_path / "p.jsonl", ExportOptions(embeddings=False))
    [row] = read(tmp_path / "p.jsonl")
    assert row["ranked_by"] is None and row["chosen_verified"] is False and row["prompt"] == U("Say hi.")


def test_a_rejected_answer_is_exported_under_the_prompt_it_answered(tmp_path):
    first = U("Pick a move. Legal moves: e4 d4")
    again = [*first, {"role": "assistant", "content": "Ke2"},
             {"role": "user", "content": "Ke2 is not a legal move here. Legal moves: e4 d4. Reply with one only."}]
    rs = RankedSet(PLAYER, first, [Entry("a", "e4", 0, 1.0, 0, verified=True), Entry("a", "Ke2", 1, 0.0, 0),
                                   Entry("a", "hello", 1, 0.0, 0, prompt=again)], "legal-move", rated=False,
                   ranked_by="rule")
    run = tmp_path / "run"
    store = Store(run)
    store.ensure_tournament("t1", "t", {}, 1, {})
    commit(store, "t1", "quiz", 0, [rs])
    store.close()
    export_dpo(run, tmp_path / "p.jsonl", ExportOptions(pairs="all", embeddings=False))
    by_rejected = {r["rejected"][0]["content"]: r for r in read(tmp_path / "p.jsonl")}
    assert by_rejected["Ke2"]["prompt"] == first and by_rejected["hello"]["prompt"] == again
    assert all(r["chosen"][0]["content"] == "e4" and r["chosen_verified"] for r in by_rejected.values())


def test_a_corrected_move_is_the_move_itself_and_each_mistake_keeps_its_re_prompt(tmp_path):
    from arena.config import parse_config
    from arena.engine.runner import run
    # an illegal move, then nothing resembling a move, then a legal move wrapped in words
    script = ["Ke2", "zzz", "I play e4 now", "d4", "Nc3", "Nf3", "Bc4", "O-O"]
    cfg = parse_config({"tournament": {"families": ["chess"], "players": ["flaky", "random"], "seed": 3},
                        "families": {"chess": {"max_plies": 6}},
                        "variants": [{"name": "flaky", "model": "mock/script", "script": script}]})
    run(cfg, tmp_path / "run")
    export_dpo(tmp_path / "run", tmp_path / "p.jsonl", ExportOptions(pairs="all", embeddings=False))
    rows = read(tmp_path / "p.jsonl")
    for r in rows:
        position = r["prompt"][2]["content"]  # the format example, then the position
        legal = position.rsplit("Legal moves: ", 1)[1].split()
        assert r["chosen"][0]["content"] in legal  # the move as it should be written, nothing around it
        assert r["ranked_by"] == "rule" and r["chosen_verified"] is True
        assert (r["chosen_score"], r["rejected_score"]) == (1.0, 0.0)
    first = [r for r in rows if r["rejected"][0]["content"] == "Ke2"]
    second = [r for r in rows if r["rejected"][0]["content"] == "zzz"]
    assert first and second
    assert all(len(r["prompt"]) == 3 for r in first)  # the position's own prompt
    for r in second:  # the conversation it answered: the earlier mistake and the re-prompt
        assert r["prompt"][3] == {"role": "assistant", "content": "Ke2"}
        assert "not a legal move" in r["prompt"][4]["content"] and r["chosen"][0]["content"] == "e4"


def test_seated_exports_only_the_matches_a_variant_played(tmp_path):
    """The loop trains generation N+1 on the matches generation N played (the newest, on-policy
    data), though the loop's tournaments share one id with the earlier generations' matches."""
    store = Store(tmp_path / "run")
    store.ensure_tournament("t1", "t", {"name": "t"}, 3, {})
    for seq, (seats, text) in enumerate(((("a", "b"), "old"), (("a", "g1"), "new"), (("g1", "b"), "newer"))):
        m = ScheduledMatch(f"t1-m{seq}", "t1", "quiz", seats, 0, 0, seq, seq)
        sets = [RankedSet(PLAYER, U(f"Q {text}?"), [Entry(seats[0], f"{text} right", 0, 1.0, 0),
                                                     Entry(seats[1], f"{text} wrong", 1, 0.0, 1)])]
        store.commit_match(m, MatchResult(sets), [], [], time.time())
    store.close()
    out = tmp_path / "p.jsonl"
    export_dpo(tmp_path / "run", out, ExportOptions(embeddings=False, tournament_id="t1", seated="g1"))
    assert sorted(r["chosen"][0]["content"] for r in read(out)) == ["new right", "newer right"]
    export_dpo(tmp_path / "run", out, ExportOptions(embeddings=False, tournament_id="t1"))
    assert len(read(out)) == 3  # unset: every match of the tournament
