"""Predict-output as a curriculum: k samples per seat in one ranked set, truth pairs, learnability
for authors, and a whole scripted tournament through the runner, the store and the DPO export."""
import json

import pytest

from arena.engine.family import FamilyOptionError
from arena.engine.ratings import RatingBook, seat_summary
from arena.records import Variant
from arena.training.export import ExportOptions, pairs_from_set
from tests.tournaments.families.test_predict_output import ALIASING, RANDOM, TRUTH, by_set, make_ctx, play, script
from tournaments.families.predict_output.curriculum import Prediction, learnability, self_similarity, truth_answer
from tournaments.families.predict_output.family import create

EXACT = "```\n4 4\nTrue\n```"
HARD = json.dumps({"question": "What is the digit sum?", "program": "n = 98765\nt = 0\nwhile n:\n"
                   "    t += n % 10\n    n //= 10\nprint(t * 7, 'sum')"})  # 245 sum: nobody below predicts it


def constant(name, text):
    return Variant(name, "mock/constant", options={"text": text})


def test_each_seat_predicts_k_times_into_one_ranked_set_rated_by_the_mean():
    # p1 has the one exact (lucky) sample but is far off in the other two; p2 is close every time
    variants = [script("a1", ALIASING), script("p1", EXACT, "[9, 9]", "nothing"),
                script("p2", "4 4\nFalse", "4 4\nFalse", "4 4\nFalse")]
    ctx = make_ctx(variants, authors=("a1",))
    result = play(ctx, samples=3)
    outcome = result.outcome
    assert [e.variant for e in outcome.entries] == ["p1"] * 3 + ["p2"] * 3 and len(result.ranked_sets) >= 1
    players = [c for c in ctx.calls if c.role == "player"]
    assert len(players) == 6 and len({c.messages[-1]["content"] for c in players}) == 1  # the same prompt, k times
    best = min(outcome.entries, key=lambda e: e.rank)
    assert best.variant == "p1" and best.score == 1.0 and best.verified
    assert seat_summary(outcome) == {"p2": 0, "p1": 1}  # by the mean score, not the lucky sample
    book = RatingBook()
    book.apply("predict-output", outcome)
    assert book.get("p2", "player", "predict-output").mu > book.get("p1", "player", "predict-output").mu
    assert result.details["samples"] == 3 and result.details["solve_rate"] == round(1 / 6, 4)
    sim = result.details["self_similarity"]
    assert sim["p2"] == 1.0 and sim["p1"] < 0.5  # one variant said the same thing three times


def test_samples_default_to_the_tournament_setting():
    variants = [script("a1", ALIASING), script("p1", EXACT), script("p2", "3")]
    ctx = make_ctx(variants, authors=("a1",))
    ctx.samples = 2
    assert len(play(ctx).outcome.entries) == 4
    assert len(play(make_ctx(variants, authors=("a1",))).outcome.entries) == 2  # default 1


def test_the_real_output_is_chosen_over_every_distinct_wrong_prediction_unrated_and_never_shown():
    variants = [script("a1", ALIASING), script("p1", EXACT, "4 4\nFalse"), script("p2", "Output: 3 3", "3 3")]
    ctx = make_ctx(variants, authors=("a1",))
    result = play(ctx, samples=2)
    truth = [rs for rs in result.ranked_sets if rs.criterion == "truth"]
    # wrong: p1's "4 4\nFalse" and p2's "3 3" (its two answers read as the same prediction: one pair)
    assert len(truth) == 2
    for rs in truth:
        assert not rs.rated and rs.exportable and rs.ranked_by == "execution" and rs.role == "player"
        top, wrong = sorted(rs.entries, key=lambda e: e.rank)
        assert (top.variant, top.text, top.rank, top.verified) == ("execution", truth_answer(TRUTH), 0, True)
        assert wrong.rank == 1 and not wrong.verified and wrong.score < 1.0
        assert RatingBook().apply("predict-output", rs) == []  # never rated
        rows = pairs_from_set(rs, family="predict-output", match_id="m1", opts=ExportOptions(), unleashed=False)
        assert len(rows) == 1 and rows[0]["chosen"][0]["content"] == EXACT and rows[0]["chosen_verified"]
        assert rows[0]["prompt"] == result.outcome.prompt
    assert {e.variant for rs in truth for e in rs.entries} == {"execution", "p1", "p2"}
    # no player saw the real output before answering
    for c in ctx.calls:
        if c.role == "player":
            assert "4 4\nTrue" not in json.dumps(c.messages) and "4 4\\nTrue" not in json.dumps(c.messages)


def test_learnability_is_one_minus_the_solve_rate_strictly_inside():
    assert learnability(0.0) == 0.0 and learnability(1.0) == 0.0 and learnability(0.5) == 0.5
    assert learnability(0.25) == 0.75
    same = [Prediction("v", 0, "x", "4", 0.5), Prediction("v", 0, "x", "4", 0.5), Prediction("w", 1, "x", "5", 0)]
    assert self_similarity(same) == {"v": 1.0}  # w has one sample: nothing to compare


def test_authors_are_ranked_by_the_learnability_of_their_programs():
    # a1's program: p1 solves it, p2 does not (p = 0.5 -> 0.5); a2's: nobody does (p = 0 -> 0); a3: rejected
    variants = [script("a1", ALIASING), script("a2", HARD), script("a3", RANDOM, RANDOM),
                constant("p1", EXACT), constant("p2", "3 3")]
    ctx = make_ctx(variants, authors=("a1", "a2", "a3"))
    result = play(ctx, samples=2)
    authors = by_set(result, "author", "learnability")
    assert authors.ranked_by == "execution" and authors.rated
    got = {e.variant: (e.rank, e.score, e.verified) for e in authors.entries}
    assert got == {"a1": (0, 0.5, True), "a2": (1, 0.0, True), "a3": (2, 0.0, False)}
    assert result.details["learnability"] == {"author:a1": 0.5, "author:a2": 0.0}
    # both admitted programs were played, each with its own outcome of k x seats predictions
    outcomes = [rs for rs in result.ranked_sets if rs.role == "player" and rs.criterion == "outcome"]
    assert len(outcomes) == 2 and all(len(rs.entries) == 4 for rs in outcomes)
    assert [p["source"] for p in result.details["played"]] == ["author:a1", "author:a2"]
    assert any("imports random" in f.detail for f in result.failures if f.variant == "a3")
    rows = pairs_from_set(authors, family="predict-output", match_id="m1", opts=ExportOptions(pairs="all"),
                          unleashed=False)
    assert {(r["chosen_variant"], r["rejected_variant"]) for r in rows} == {("a1", "a2"), ("a1", "a3"), ("a2", "a3")}


def test_the_author_call_carries_the_program_schema_unless_unconstrained():
    """Through a real OpenAI-wire server: the author's request asks for the JSON schema."""
    from tests.support.fault_server import FaultServer
    from tournaments.families.predict_output.family import AUTHOR_PROMPT, PROGRAM_SCHEMA
    formats = []

    def reply(body):
        user = [m for m in body["messages"] if m.get("role") == "user"]
        if user[0]["content"].startswith(AUTHOR_PROMPT):
            formats.append(body.get("response_format"))
            return ALIASING
        return EXACT

    with FaultServer(reply=reply) as server:
        model = [Variant(n, "openai-api/fault/m1", options={"base_url": server.openai_url}) for n in ("a1", "p1")]
        for constrained in (True, False):
            ctx = make_ctx(model + [script("p2", "3")], authors=("a1",))
            result = play(ctx, constrained=constrained)
            assert result.details["program_source"] == "author:a1"
            author = next(c for c in ctx.calls if c.role == "author")
            assert author.constrained is constrained
    # OpenAI's strict mode refuses string lengths: the backend sends the schema without them
    sent = formats[0]["json_schema"]["schema"]
    assert formats[0]["type"] == "json_schema" and sent["required"] == PROGRAM_SCHEMA["required"]
    assert {k: {"type": v["type"]} for k, v in PROGRAM_SCHEMA["properties"].items()} == sent["properties"]
    assert formats[1] is None


def test_a_scripted_tournament_exports_verified_truth_and_author_pairs(tmp_path):
    """Runner, store, ratings and export together, on generated programs (scripted authors fail)."""
    from arena.config import parse_config
    from arena.engine.runner import run
    from arena.engine.store import Store
    from arena.training.export import export_dpo
    cfg = parse_config({"tournament": {"families": ["predict-output"], "players": ["random", "first"], "seed": 4,
                                       "samples": 3, "rounds": 2},
                        "families": {"predict-output": {"tier": 1}}})
    summary = run(cfg, tmp_path / "run")
    assert summary.finished == 4 and summary.failed == 0
    store = Store(tmp_path / "run", create=False)
    try:
        matches = list(store.iter_matches())
        assert all(m["details"]["program_source"].startswith("generated:tier1:") for m in matches)
        sets = [rs for _, _, rs in store.iter_ranked_sets()]
        outcomes = [rs for rs in sets if rs.criterion == "outcome"]
        assert len(outcomes) == 4 and all(len(rs.entries) == 6 for rs in outcomes)
        assert all(not rs.rated for rs in sets if rs.criterion == "truth")
    finally:
        store.close()
    out = tmp_path / "pairs.jsonl"
    export_dpo(tmp_path / "run", out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    truth = [r for r in rows if r["criterion"] == "truth"]
    assert truth and all(r["chosen_verified"] and r["chosen_variant"] == "execution" for r in truth)
    again = run(cfg, tmp_path / "run")
    assert again.skipped == 4 and again.finished == 0


def test_the_right_verdict_is_a_verified_referee_answer_even_with_one_referee():
    # one referee, and it says the first (wrong) prediction is better: the executed truth says B
    variants = [script("a1", ALIASING), script("p1", "[9, 9]"), script("p2", EXACT), script("r1", "A", "A")]
    result = play(make_ctx(variants, authors=("a1",), referees=("r1",)))
    rs = by_set(result, "referee", "verdict-truth")
    assert rs is not None and not rs.rated and rs.ranked_by == "execution"
    top, wrong = sorted(rs.entries, key=lambda e: e.rank)
    assert (top.variant, top.text, top.verified) == ("execution", "B", True)
    assert (wrong.variant, wrong.text.strip()) == ("r1", "A")  # the referee's own wrong verdict
    assert "Answer A:" in rs.prompt[-1]["content"] and "[9, 9]" in rs.prompt[-1]["content"]
    rows = pairs_from_set(rs, family="predict-output", match_id="m1", opts=ExportOptions(), unleashed=False)
    assert len(rows) == 1 and rows[0]["role"] == "referee" and rows[0]["chosen_verified"]
    assert RatingBook().apply("predict-output", rs) == []
    # equal predictions: no letter is right, no set
    same = [script("a1", ALIASING), script("p1", EXACT), script("p2", EXACT), script("r1", "A", "A")]
    assert by_set(play(make_ctx(same, authors=("a1",), referees=("r1",))), "referee", "verdict-truth") is None


def test_authors_see_an_example_and_may_not_copy_it_or_write_a_held_out_program():
    from tournaments.families.predict_output import generator
    from tournaments.families.predict_output.family import PredictOutputFamily
    ctx = make_ctx([script("p1", EXACT), script("p2", "3")], authors=())
    question, code = PredictOutputFamily()._example(ctx)
    assert not generator.is_heldout(code)
    copy = json.dumps({"question": question, "program": code})
    held_q, held_code = generator.heldout_programs(1, 2)[0]
    held = json.dumps({"question": held_q, "program": held_code})
    for text, reason in ((copy, "the example itself"), (held, "held-out evaluation set")):
        variants = [script("a1", text, text), script("p1", EXACT), script("p2", "3")]
        c = make_ctx(variants, authors=("a1",))
        result = play(c)
        author = next(call for call in c.calls if call.role == "author")
        assert json.dumps(code) in author.messages[-1]["content"]  # the example, as JSON
        assert result.details["program_source"].startswith("generated:")
        assert any(reason in r for r in result.details["authored"][0]["reasons"])


def test_the_authors_example_follows_the_tier_centre():
    """Authors imitate the example: at the centre the model partly solves, their programs can have
    0 < p < 1, so learnability can reward them (an example from tiers 1-3 led to programs nobody solved)."""
    from tournaments.families.predict_output import generator
    from tournaments.families.predict_output.family import create
    ctx = make_ctx([script("p1", EXACT), script("p2", "3")], authors=())
    seed = generator.training_seed(ctx.match.seed * 7919 + 17)
    for center in (0.0, 3.0):
        want = generator.generate(seed, generator.pick_tier(ctx.match.seed, "auto", center))
        assert create({"tier_center": center})._example(ctx) == want


def test_programs_tops_a_match_up_with_distinct_stocked_programs_that_replay_the_same():
    def played(options, *author_answers, seed=5):
        variants = [script("a1", *author_answers), constant("p1", "no idea"), constant("p2", "7")]
        result = play(make_ctx(variants, authors=("a1",), seed=seed), **options)
        return result, [p["source"] for p in result.details["played"]]

    result, sources = played({"programs": 3}, RANDOM, RANDOM)  # nothing admitted: the stock plays all three
    assert len(sources) == 3 and len(set(sources)) == 3 and all(s.startswith("generated:tier") for s in sources)
    outcomes = [rs for rs in result.ranked_sets if rs.criterion == "outcome"]
    assert len(outcomes) == 3 and len({rs.prompt[-1]["content"] for rs in outcomes}) == 3
    # each program's real output is chosen over both wrong predictions
    assert len([rs for rs in result.ranked_sets if rs.criterion == "truth"]) == 6
    assert played({"programs": 3}, RANDOM, RANDOM)[1] == sources  # a replay plays the same programs
    assert played({"programs": 3}, RANDOM, RANDOM, seed=6)[1] != sources
    assert played({}, RANDOM, RANDOM)[1] == sources[:1]  # programs = 1: the fallback alone, as before

    result, sources = played({"programs": 2}, ALIASING)  # an admitted program comes first, the stock tops up
    assert sources[0] == "author:a1" and sources[1].startswith("generated:tier") and len(sources) == 2
    _, sources = played({"programs": 3, "fallback": "builtin"}, RANDOM, RANDOM)
    assert len(set(sources)) == 3 and all(s.startswith("builtin:") for s in sources)


def test_programs_must_be_a_whole_number_from_1_to_16():
    for bad in (0, 17, "two"):
        with pytest.raises(FamilyOptionError, match="programs"):
            create({"programs": bad})
