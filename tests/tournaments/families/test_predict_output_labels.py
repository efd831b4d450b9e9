"""The predict-output reward on a labelled set of real programs (tests/.../data/predict_output_labels.py).

Each program runs in the sandbox for its real output; the hand-labelled answers must score
exact (1.0) > near > far > garbage, and a hedge never above the far answer.
"""
import asyncio

import pytest

from tests.tournaments.families.data.predict_output_labels import LABELS, PROGRAMS
from tournaments.families.predict_output.family import check_program, similarity
from tournaments.families.predict_output.programs import BUILTIN_PROGRAMS


@pytest.fixture(scope="module")
def outputs():
    """name -> the real output of every labelled program, each run (twice) in the sandbox."""
    programs = [(f"builtin:{i}", code) for i, (_, code) in enumerate(BUILTIN_PROGRAMS, 1)] + list(PROGRAMS)

    async def run_all():
        return await asyncio.gather(*(check_program("Q?", code, timeout_s=10, memory_mb=256, max_output=4000,
                                                    author=None) for _, code in programs))
    return {name: checked.output for (name, _), checked in zip(programs, asyncio.run(run_all()))}


def test_the_labelled_set_covers_at_least_40_real_programs(outputs):
    assert len(outputs) >= 40 and set(outputs) == set(LABELS)


def test_exact_beats_near_beats_far_beats_garbage_and_a_hedge_never_beats_far(outputs):
    wrong = []
    for name, truth in outputs.items():
        near, far, hedge, garbage = LABELS[name]
        s = {"exact": similarity(truth, truth), "near": similarity(near, truth), "far": similarity(far, truth),
             "hedge": similarity(hedge, truth), "garbage": similarity(garbage, truth)}
        if not (s["exact"] == 1.0 > s["near"] > s["far"] > s["garbage"] >= 0 and s["hedge"] <= s["far"]):
            wrong.append(f"{name}: {s}")
    assert not wrong, f"{len(wrong)} of {len(outputs)} programs mis-ordered:\n" + "\n".join(wrong)


def test_numbers_are_compared_by_value():
    assert similarity("2", "1\n") > similarity("1000", "1\n") > similarity("banana", "1\n")
    assert similarity("2", "1\n") >= 0.5  # an off-by-one is a near miss, not garbage
    assert similarity("56", "55") > similarity("65", "55")  # one digit of edit, but 10 times further off
    assert similarity("3.0", "3") > similarity("4", "3") and similarity("3.0", "3") < 1.0


def test_structures_are_compared_element_by_element():
    assert similarity("[1,2,3]", "[1, 2, 3]") == 0.99  # the same value, printed differently: not exact
    assert similarity("[1, 2, 4]", "[1, 2, 3]") > similarity("[9, 8, 7]", "[1, 2, 3]") > similarity("ok", "[1, 2, 3]")
    assert similarity("[1, 2]", "[1, 2, 3]") > similarity("[3]", "[1, 2, 3]")  # a lost element costs one element
    truth = "{'a': 1, 'b': 2, 'c': 3}"
    assert similarity("{'a': 1, 'b': 2, 'c': 4}", truth) > similarity("{'a': 1}", truth) > similarity("{}", truth)
    assert similarity("{1, 2, 4}", "{1, 2, 3}") > similarity("{7, 8}", "{1, 2, 3}")
    assert similarity("'abd'", "'abc'") > similarity("'xyz'", "'abc'")
    assert similarity("(1, 'a') False", "(1, 'a') True") > similarity("The answer is True", "(1, 'a') True")


def test_the_same_answer_always_gets_the_same_score():
    """The alignment budget is per score: earlier (huge) answers never change a later one's score."""
    truth = "\n".join(str(list(range(i, i + 20))) for i in range(20))
    huge = "\n".join(str(list(range(i, i + 20))) for i in range(300))
    first = similarity(huge, truth), similarity("[0, 1]\n[1, 2]", truth)
    for _ in range(3):
        assert (similarity(huge, truth), similarity("[0, 1]\n[1, 2]", truth)) == first


def test_a_hedge_never_beats_committing_to_any_of_its_alternatives():
    truth = "4 4\nTrue\n"
    for hedge, committed in [("4 4\nTrue or False", "4 4\nFalse"), ("either 4 4 or 3 3\nTrue", "3 3\nTrue"),
                             ("4 4\nTrue\nor\n4 4\nFalse", "4 4\nFalse"), ("4 4 / 5 5\nTrue", "5 5\nTrue")]:
        assert similarity(hedge, truth) < similarity(committed, truth), hedge
    assert similarity("True or False", "True") < similarity("False", "True")
    assert similarity("this or that", "this or that\n") == 1.0  # a program may print "or" itself


def test_adversarial_predictions_are_scored_quickly_and_low():
    import time
    truth = "[20, 20, 20]\n[0, 10, 20]\n"
    start = time.perf_counter()
    for attack in ["[" * 5000, "1 " * 50_000, "[20, 20, 20]\n" * 5000, "9" * 10_000, "1e999 -1e999 nan",
                   "{'a': " * 300, "(" * 100 + ")" * 100, "'" * 7777, " or " * 3000,
                   "either 1 or " + "," * 20_000 + "2"]:
        assert 0.0 <= similarity(attack, truth) < 0.3, attack[:40]
    assert time.perf_counter() - start < 5
