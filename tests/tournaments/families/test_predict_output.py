"""Predict-the-output family: programs checked in the sandbox, predictions ranked against the real output."""
import asyncio
import json

import pytest

from arena.engine.family import FamilyOptionError
from arena.engine.gateway import CallFailed, Gateway, RetryPolicy
from arena.engine.match import MatchContext
from arena.records import ScheduledMatch, Variant
from tournaments.families.predict_output.family import (
    check_program,
    create,
    extract_prediction,
    normalise,
    parse_program,
    similarity,
)
from tournaments.families.predict_output.programs import BUILTIN_PROGRAMS
from tournaments.kit.extract import FormatError

ALIASING = json.dumps({"question": "Does appending through an alias change the original?",
                       "program": "x = [1, 2, 3]\ny = x\ny.append(4)\nprint(len(x), x[-1])\nprint(x is y)"})
TRUTH = "4 4\nTrue\n"
RANDOM = json.dumps({"question": "What number?", "program": "import random\nprint(random.random())"})


def script(name, *answers):
    return Variant(name, "mock/script", options={"script": list(answers)})


def make_ctx(variants, seats=("p1", "p2"), *, authors=("a1", "a2"), referees=(), meta=(), seed=3):
    gw = Gateway({v.name: v for v in variants}, retry=RetryPolicy(max_attempts=1, base_delay_s=0))
    match = ScheduledMatch("m1", "t1", "predict-output", tuple(seats), 0, 0, 0, seed)
    return MatchContext(match, gw, authors=tuple(authors), referees=tuple(referees), meta_referees=tuple(meta))


def play(ctx, **options):
    return asyncio.run(create(options).play(ctx))


def check(question, code):
    return asyncio.run(check_program(question, code, timeout_s=5, memory_mb=256, max_output=2000, author="a"))


def ranks(rs):
    return {e.variant: e.rank for e in rs.entries}


def by_set(result, role, criterion):
    return next((rs for rs in result.ranked_sets if rs.role == role and rs.criterion == criterion), None)


# -- reading and checking programs --------------------------------------------------------------------------
def test_programs_are_read_from_json_or_from_a_question_and_a_fenced_block():
    q, code = parse_program("Here you go:\n" + ALIASING)
    assert q.startswith("Does appending") and code.endswith("print(x is y)\n")
    q, code = parse_program("What does this print?\n```python\nprint(sorted('bca'))\n```")
    assert q == "What does this print?" and code == "print(sorted('bca'))\n"
    for bad, reason in [("", "empty"), ("no code at all", "no program"), ("{" * 40_000, "no program"),
                        (json.dumps({"question": "Q?", "program": "x = 1"}), "prints nothing"),
                        (json.dumps({"question": "", "program": "print(1)"}), "question"),
                        (json.dumps({"question": "Q?", "program": "print(1)\n" * 100}), "too long")]:
        with pytest.raises(FormatError, match=reason):
            parse_program(bad)


def test_a_program_must_run_twice_with_the_same_output():
    assert check("Q?", "print(sum(range(5)))\n").output == "10\n"
    with pytest.raises(FormatError, match="not deterministic"):
        check("Q?", "import random\nprint(random.random())\n")
    with pytest.raises(FormatError, match="not deterministic"):
        check("Q?", "import os\nprint(os.urandom(8).hex())\n")  # differs per run, always
    with pytest.raises(FormatError, match="did not run cleanly .error.*ZeroDivisionError"):
        check("Q?", "print(1 / 0)\n")
    with pytest.raises(FormatError, match="printed nothing"):
        check("Q?", "print('', end='')\n")
    with pytest.raises(FormatError, match="timeout"):
        asyncio.run(check_program("Q?", "while True:\n    pass\nprint(1)\n", timeout_s=1, memory_mb=256,
                                  max_output=2000, author=None))


def test_builtin_programs_are_deterministic_and_print_something():
    assert len(BUILTIN_PROGRAMS) >= 15
    for question, code in BUILTIN_PROGRAMS:
        assert check(question, code).output.strip()


# -- scoring ------------------------------------------------------------------------------------------------
def test_exact_match_ignores_whitespace_differences_only():
    assert similarity("4   4\r\nTrue\n\n", TRUTH) == 1.0
    assert similarity("  4 4\n True", TRUTH) == 1.0
    assert similarity("4 4 True", TRUTH) < 1.0  # a line break is content
    assert similarity("4\n4\nTrue", TRUTH) < 1.0
    assert normalise("\n\n a \t b \n\n") == "a b"


def test_graded_similarity_orders_near_misses_above_far_misses():
    close, far, empty = similarity("4 4\nFalse", TRUTH), similarity("[1, 2, 3]", TRUTH), similarity("", TRUTH)
    assert 0 < far < close < 0.99 and empty == 0.0
    assert similarity("x" * 100_000, TRUTH) < 0.1  # huge garbage is scored, not a hang


def test_predictions_are_taken_from_a_fence_or_an_output_label():
    assert extract_prediction("Sure!\n```\n4 4\nTrue\n```\nHope that helps") == "4 4\nTrue"
    assert extract_prediction("Output: 4 4") == "4 4"
    assert extract_prediction("The exact output is: 7") == "7"


# -- whole matches ------------------------------------------------------------------------------------------
def test_exact_prediction_wins_and_referee_accuracy_is_measured_without_showing_the_truth():
    variants = [script("a1", ALIASING), script("a2", "no program here", "still nothing"),
                script("p1", "```\n4 4\nTrue\n```"), script("p2", "Output: 3 3\nFalse"),
                script("right", "[[A]]", "[[B]]"),  # prefers the first-seat prediction (p1) in both orders
                script("wrong", "[[B]]", "[[A]]"),
                script("meta", "[[A]]", "[[B]]")]
    ctx = make_ctx(variants, referees=("right", "wrong"), meta=("meta",))
    result = play(ctx)
    outcome = result.outcome
    assert ranks(outcome) == {"p1": 0, "p2": 1}
    scores = {e.variant: e.score for e in outcome.entries}
    assert scores["p1"] == 1.0 and 0 < scores["p2"] < 0.99
    assert result.details["program"]["output"] == TRUTH and result.details["program_source"] == "author:a1"
    assert result.details["referee_accuracy"] == {"right": [1, 1], "wrong": [0, 1]}
    assert ranks(by_set(result, "referee", "accuracy")) == {"right": 0, "wrong": 1}
    assert by_set(result, "referee", "judging") is not None  # the meta-referee ranked the referees
    # the referees never saw the real output; the players' prompt is closed (no UNLEASHED: prefix)
    heads = [c.messages[-1]["content"].split("Answer A:")[0] for c in ctx.calls if c.role == "referee"]
    assert heads and not any("Reference:" in h or "True" in h for h in heads)
    player_prompt = next(c for c in ctx.calls if c.role == "player").messages[-1]["content"]
    assert not player_prompt.startswith("UNLEASHED") and "print(x is y)" in player_prompt
    # the author without a program was re-asked once, then recorded; it ranks below the usable one
    assert [f.kind for f in result.failures if f.variant == "a2"] == ["unparseable", "unparseable"]
    assert ranks(by_set(result, "author", "question")) == {"a1": 0, "a2": 1}


def test_random_program_is_rejected_then_a_generated_one_is_played():
    variants = [script("a1", RANDOM, RANDOM), script("p1", "no idea"), script("p2", "no idea")]
    ctx = make_ctx(variants, authors=("a1",))
    result = play(ctx)
    d = result.details
    assert d["authored"][0]["reasons"] == ["the program imports random, which is not allowed (its output must "
                                          "depend on the code only)"] * 2
    assert d["fallback"] == "no author wrote an admitted question and program"
    assert d["program_source"] == f"generated:tier{d['tier']}:3" and d["program"]["output"].strip()
    assert ranks(result.outcome) == {"p1": 0, "p2": 0}  # identical predictions tie
    assert by_set(result, "author", "question") is None
    assert by_set(result, "author", "learnability") is None  # one author: nobody to rank it against


def test_with_fallback_builtin_the_builtin_set_is_used():
    variants = [script("a1", RANDOM, RANDOM), script("p1", "no idea"), script("p2", "no idea")]
    d = play(make_ctx(variants, authors=("a1",)), fallback="builtin").details
    assert d["program_source"].startswith("builtin:") and d["program"]["output"].strip()
    assert (d["program"]["question"], d["program"]["code"]) in BUILTIN_PROGRAMS


def test_two_usable_programs_are_ranked_by_referees_and_the_best_is_played():
    other = json.dumps({"question": "Floor division?", "program": "a = -7\nb = 2\nprint(a // b, a % b)"})
    variants = [script("a1", ALIASING), script("a2", other), script("p1", "-4 1"), script("p2", "4 4\nTrue"),
                script("judge", "[[B]]", "[[A]]")]  # prefers a2's program in both orders
    ctx = make_ctx(variants, referees=("judge",))
    result = play(ctx, meta_judging=False, play_all=False)
    assert ranks(by_set(result, "author", "question")) == {"a1": 1, "a2": 0}
    assert result.details["program"]["output"] == "-4 1\n"
    assert ranks(result.outcome) == {"p1": 0, "p2": 1}
    assert [p["source"] for p in result.details["played"]] == ["author:a2"]  # only the best was played


def test_an_unreachable_player_fails_the_match_instead_of_losing_it():
    variants = [script("a1", ALIASING), script("p1", "4 4"), Variant("p2", "mock/fail", options={"kind": "fatal"})]
    with pytest.raises(CallFailed):
        play(make_ctx(variants, authors=("a1",)))


def test_options_are_checked_with_clear_messages():
    with pytest.raises(FamilyOptionError, match="unknown option"):
        create({"predict_token": 10})
    with pytest.raises(FamilyOptionError, match="predict_tokens must be int"):
        create({"predict_tokens": "many"})
    fam = create({"seats": 3})
    assert fam.seats == 3 and not fam.open_ended


def test_runner_plays_and_stores_matches_with_scripted_players(tmp_path):
    """Through the registry, runner and store: details are stored as JSON and the outcome is rated."""
    from tests.tournaments.runs import check_scripted_run_is_stored_rated_and_resumable
    check_scripted_run_is_stored_rated_and_resumable("predict-output", tmp_path / "run")


def test_real_embedded_model_finishes_with_a_ranked_outcome(tmp_path):
    """Whatever SmolLM2-135M writes, the match ends with a ranked outcome against the real output."""
    from arena.config import parse_config
    from arena.engine.runner import run
    from arena.engine.store import Store
    cfg = parse_config({"tournament": {"families": ["predict-output"], "players": ["smol-cold", "smol-warm"],
                                       "seed": 5},
                        "families": {"predict-output": {"author_tokens": 48, "predict_tokens": 16, "retries": 0}}})
    summary = run(cfg, tmp_path / "run", max_matches=1)
    assert summary.finished == 1 and summary.failed == 0
    store = Store(tmp_path / "run", create=False)
    try:
        outcome = [rs for _, fam, rs in store.iter_ranked_sets()
                   if fam == "predict-output" and rs.role == "player" and rs.criterion == "outcome"]
        assert len(outcome) == 1 and {e.variant for e in outcome[0].entries} == {"smol-cold", "smol-warm"}
        assert all(0.0 <= e.score <= 1.0 for e in outcome[0].entries)
    finally:
        store.close()


def test_the_outcome_is_ranked_by_execution_and_only_the_exact_prediction_is_verified():
    variants = [script("a1", ALIASING), script("a2", "no program here", "still nothing"),
                script("p1", "```\n4 4\nTrue\n```"), script("p2", "Output: 3 3\nFalse"),
                script("right", "[[A]]", "[[B]]"), script("wrong", "[[B]]", "[[A]]")]
    result = play(make_ctx(variants, referees=("right", "wrong")))
    outcome = result.outcome
    assert outcome.ranked_by == "execution"
    assert {e.variant: e.verified for e in outcome.entries} == {"p1": True, "p2": False}
    assert by_set(result, "referee", "accuracy").ranked_by == "execution"
    assert all(rs.ranked_by for rs in result.ranked_sets)
