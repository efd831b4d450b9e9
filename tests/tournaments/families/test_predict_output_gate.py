"""The admission gate and the procedural generator of predict-the-output programs.

Every generated program of every tier is run in the real sandbox (twice, through the gate)."""
import asyncio

import pytest

from tournaments.families.predict_output import family as predict_output
from tournaments.families.predict_output import generator
from tournaments.families.predict_output.gate import admit, static_reason
from tournaments.kit.extract import FormatError

OK = "a = 7\nb = 3\nprint(a * b - a // b, 'done')\n"


def gate(code: str, **kw):
    return asyncio.run(admit("Q?", code, author="a", **kw))


@pytest.mark.parametrize("code, reason", [
    ("print(7)\n", "too short"),
    ("x = 1\n" * 120 + "print(x)\n", "too long"),
    ("x = (1,\nprint(x) and x and x and x and x\n", "not valid Python"),
    ("import random\nprint(random.randint(1, 6), 'rolled')\n", "imports random"),
    ("import time\nprint(int(time.time()) % 2, 'tick')\n", "imports time"),
    ("from os import path\nprint(path.sep, 'separator')\n", "imports os"),
    ("import subprocess\nprint(subprocess.run, 'sub')\n", "imports subprocess"),
    ("import threading\nprint(threading.active_count())\n", "imports threading"),
    ("import socket\nprint(socket.gethostname(), 'x')\n", "imports socket"),
    ("import numpy\nprint(numpy.arange(3).sum(), 'x')\n", "standard library only"),
    ("m = __import__('math')\nprint(m.factorial(5), 'x')\n", "calls __import__"),
    ("print(eval('1 + 2 + 3 + 4'), 'evaluated')\n", "calls eval"),
    ("exec('y = 5')\nprint('executed code here')\n", "calls exec"),
    ("print(open('main.py').read()[:9])\n", "calls open"),
    ("f = eval\nprint(f('40 + 2'), 'aliased')\n", "uses eval"),
    ("print(().__class__.__bases__[0].__subclasses__()[:1])\n", "not allowed"),
    ("values = [3, 1, 2]\nvalues.sort()\nvalues.reverse()\n", "prints nothing"),
])
def test_static_rejections_name_their_reason(code, reason):
    assert reason in (static_reason(code) or "")
    with pytest.raises(FormatError, match=reason):
        gate(code)


@pytest.mark.parametrize("code, reason", [
    ("print(sum(range(10)) / 4, 'quarter')\n", "floating-point"),
    ("for i in range(12):\n    print('line', i)\n", "too long to predict"),
    ("print('x' * 300, 'long output')\n", "too long to predict"),
    ("print('seen', set('abcdefghijkl'))\n", "not deterministic"),  # str hashing differs per run
    ("print('about to divide', 1 // 0)\n", "did not run cleanly .error"),
    ("n = 0\nwhile True:\n    n += 1\nprint(n, 'never')\n", "timeout"),
    ("print('', end='')  # nothing at all here\n", "printed nothing"),
])
def test_sandboxed_rejections_name_their_reason(code, reason):
    with pytest.raises(FormatError, match=reason):
        gate(code)


def test_an_ordinary_program_is_admitted_with_its_real_output():
    assert gate(OK).output == "19 done\n"
    assert gate("import math\nprint(math.gcd(84, 36), math.factorial(5))\n").output == "12 120\n"  # stdlib is fine


def test_generation_is_reproducible_and_tiers_differ():
    for tier in generator.TIERS:
        first = [generator.generate(s, tier) for s in range(30)]
        assert first == [generator.generate(s, tier) for s in range(30)]
        assert len({code for _, code in first}) >= 20  # not one program over and over
    assert generator.generate(5, 1) != generator.generate(5, 4)
    with pytest.raises(ValueError, match="tier"):
        generator.generate(1, 5)


def test_heldout_programs_are_distinct_and_never_drawn_for_training():
    for tier in generator.TIERS:
        held = generator.heldout_programs(50, tier)
        assert held == generator.heldout_programs(50, tier) and len({c for _, c in held}) == 50
        training = {generator.generate(generator.training_seed(s), tier)[1] for s in range(2000)}
        assert not training & {c for _, c in held}
        assert all(generator.is_heldout(c) for _, c in held) and not any(generator.is_heldout(c) for c in training)
    assert generator.training_seed(generator.HELDOUT_SEED_BASE + 17) == 17


def test_every_generated_program_of_every_tier_passes_the_gate_twice_in_the_sandbox():
    programs = [generator.generate(s, t) for t in generator.TIERS for s in range(12)]
    programs += [p for t in generator.TIERS for p in generator.heldout_programs(4, t)]

    async def run_all():
        sem = asyncio.Semaphore(4)

        async def one(q, code):
            async with sem:
                try:
                    return (await admit(q, code, author=None, timeout_s=5.0)).output  # 5 s: a loaded CI host
                except FormatError as exc:
                    return exc
        return await asyncio.gather(*(one(q, c) for q, c in programs))
    results = asyncio.run(run_all())
    bad = [(c, r) for (_, c), r in zip(programs, results) if isinstance(r, Exception)]
    assert not bad, bad[:3]


def test_auto_tier_is_drawn_from_the_match_seed_around_the_center():
    tiers = [generator.pick_tier(s, "auto", 2.0) for s in range(600)]
    assert tiers == [generator.pick_tier(s, "auto", 2.0) for s in range(600)]  # not from finishing order
    assert set(tiers) == {1, 2, 3} and tiers.count(2) > 300
    assert {generator.pick_tier(s, "auto", 4.0) for s in range(200)} == {3, 4}
    assert generator.pick_tier(9, 3, 1.0) == 3


def test_the_tier_center_follows_the_solve_rate():
    assert generator.next_tier_center({2: 0.9}, 2.0) == 2.5  # solved too often: harder
    assert generator.next_tier_center({2: 0.1}, 2.0) == 1.5  # solved too rarely: easier
    assert generator.next_tier_center({2: 0.5}, 2.0) == 2.0  # inside the band: stay
    assert generator.next_tier_center({1: 0.8, 3: 0.0}, 2.0) == 2.0  # 0.4 between them
    assert generator.next_tier_center({"4": 1.0}, 4.0) == 4.0 and generator.next_tier_center({0: 0.0}, 0.0) == 0.0
    assert generator.next_tier_center({}, 2.5) == 2.5


def test_tier_zero_is_one_print_of_a_small_literal_computation_and_is_played():
    """The embedded model solves almost nothing of tiers 1-4, so learnability was always 0: tier 0
    gives it programs it can sometimes predict, seeded, admitted, and held out like the others."""
    programs = [generator.generate(s, 0) for s in range(200)]
    assert programs == [generator.generate(s, 0) for s in range(200)] and len({c for _, c in programs}) >= 100
    assert all(code.count("print(") == 1 and code.count("\n") <= 3 for _, code in programs)
    held = {c for _, c in generator.heldout_programs(20, 0)}
    assert not held & {c for _, c in programs}
    assert {generator.pick_tier(s, "auto", 0.0) for s in range(200)} == {0, 1}
    assert generator.next_tier_center({1: 0.0}, 1.0) == 0.5  # below the band at tier 1: easier still
    fam = predict_output.create({"tier": 0})
    assert fam.tier == 0 and predict_output.create({"tier_center": 0.0}).tier_center == 0.0
