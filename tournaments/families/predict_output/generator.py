"""Procedural predict-the-output programs in five difficulty tiers: the pool never runs dry.

`generate(seed, tier) -> (question, code)` is a pure function of its arguments (random.Random
seeded with text, which is stable across processes and Python versions), so a match replays
exactly. Tiers:

0. one print of a small literal computation: a sum of two small numbers, a string repeated or
   joined, the length or first letter of a word, which of two words (the embedded 135M model
   solved no program of tiers 1 and up, so every learnability reward was 0);
1. one arithmetic or string expression over two or three named values;
2. a loop with an accumulator (while / for, a condition inside);
3. list and dict manipulation: slicing, comprehensions, sorting, counting;
4. functions: closures, recursion, default arguments, nested control flow.

Held-out programs (the loop's evaluation, never trained on) are disjoint from training ones by
CONTENT, not only by seed: a program belongs to the held-out side exactly when a hash of its code
falls in one bucket of HELDOUT_BUCKETS, and each side draws until it gets one of its own. Seeds
at or above HELDOUT_SEED_BASE draw held-out programs, seeds below it training programs.

Every program passes the admission gate (gate.py; tests run them all in the sandbox): short,
standard library free, deterministic, short integer/string output.

The tier a match plays: a fixed option 0..4, or "auto": drawn per match from its seed in a
window around `tier_center` (`pick_tier`); the loop moves the centre between generations from
the solve rates it saw (`next_tier_center`), to keep tasks in the band the model partly solves.
"""
from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable

HELDOUT_SEED_BASE = 10**9
HELDOUT_BUCKETS = 10  # one bucket in ten of program space is held out
TIERS = (0, 1, 2, 3, 4)
TARGET = (0.3, 0.7)  # the solve-rate band the curriculum aims at
CENTER_STEP = 0.5

WORDS = ("apple", "river", "stone", "cloud", "tiger", "lemon", "piano", "robot", "ocean", "maple", "pixel",
         "quartz", "banana", "garden", "rocket", "violet", "copper", "silver", "window", "planet")
NAMES = ("ana", "bo", "cy", "dee", "eli", "fay", "gus", "hal")
Template = Callable[[random.Random], tuple[str, str]]


# -- tier 0: one print of a small literal computation (each program at least the gate's 30 characters) -----
FRUITS = ("apples", "pears", "plums", "figs", "limes")


def _t0_sum(r: random.Random) -> tuple[str, str]:
    x, y = r.sample(FRUITS, 2)
    return "How many are there in total?", f"{x} = {r.randint(1, 9)}\n{y} = {r.randint(1, 9)}\nprint({x} + {y})\n"


def _t0_repeat(r: random.Random) -> tuple[str, str]:
    return ("What does the repeated string print?",
            f"text = '{r.choice(('ab', 'ha', 'no', 'xo', 'hi', 'go'))}'\ncount = {r.randint(2, 4)}\nprint(text * count)\n")


def _t0_len(r: random.Random) -> tuple[str, str]:
    return "How many letters does the word have?", f"word = '{r.choice(WORDS)}'\nprint(len(word))\n"


def _t0_upper(r: random.Random) -> tuple[str, str]:
    return "What does the word look like in capitals?", f"word = '{r.choice(WORDS)}'\nprint(word.upper())\n"


def _t0_first(r: random.Random) -> tuple[str, str]:
    return "Which letter comes first?", f"letters = '{r.choice(WORDS)}'\nprint(letters[0])\n"


def _t0_pick(r: random.Random) -> tuple[str, str]:
    a, b = r.sample(WORDS, 2)
    shown = r.choice(("first", "second"))
    return "Which word is printed?", f"first = '{a}'\nsecond = '{b}'\nprint({shown})\n"


def _t0_join(r: random.Random) -> tuple[str, str]:
    a, b = r.sample(("sun", "rain", "snow", "star", "moon", "fire", "sea"), 2)
    return "What word do the two parts make?", f"first = '{a}'\nsecond = '{b}'\nprint(first + second)\n"


# -- tier 1: one expression --------------------------------------------------------------------------------
def _t1_arith(r: random.Random) -> tuple[str, str]:
    a, b, c = r.randint(2, 40), r.randint(2, 12), r.randint(1, 9)
    op1, op2 = r.choice(("+", "-", "*", "//", "%")), r.choice(("+", "-", "*"))
    return "What number does this expression print?", f"a = {a}\nb = {b}\nc = {c}\nprint(a {op1} b {op2} c)\n"


def _t1_string(r: random.Random) -> tuple[str, str]:
    w = r.choice(WORDS)
    i, j = sorted(r.sample(range(len(w) + 1), 2))
    expr = r.choice((f"s[{i}:{j}] + s[{r.randrange(len(w))}]", "s[::-1].upper()", f"s * 2 + str(len(s) - {i})",
                     f"s.replace(s[{i}], '-')", f"s[-{j or 1}:] + s[:{i}]", "s.count(s[0]) + s.find('e')"))
    return "What does this string expression print?", f"s = '{w}'\nprint({expr})\n"


def _t1_logic(r: random.Random) -> tuple[str, str]:
    x, y, m = r.randint(1, 50), r.randint(1, 50), r.randint(2, 7)
    expr = r.choice((f"x > y and x % {m} == {r.randrange(m)}", f"x < y or y % {m} == 0", f"(x + y) // {m}, x == y",
                     f"max(x, y) - min(x, y) > {r.randint(1, 30)}"))
    return "What does this comparison print?", f"x = {x}\ny = {y}\nprint({expr})\n"


# -- tier 2: a loop with an accumulator ---------------------------------------------------------------------
def _t2_sum(r: random.Random) -> tuple[str, str]:
    lo, hi, m, k = r.randint(0, 10), r.randint(12, 30), r.randint(2, 5), r.randint(0, 1)
    return ("What total does the loop print?",
            f"total = 0\nfor i in range({lo}, {hi}):\n    if i % {m} == {k}:\n        total += i\nprint(total)\n")


def _t2_while(r: random.Random) -> tuple[str, str]:
    x, step = r.randint(20, 90), r.randint(3, 11)
    return ("How many steps does the while loop take, and what is left?",
            f"x = {x}\ncount = 0\nwhile x > 0:\n    x -= {step}\n    count += 1\nprint(count, x)\n")


def _t2_collatz(r: random.Random) -> tuple[str, str]:
    n = r.randint(3, 60)
    return ("How many steps until n reaches 1, and how high does it go?",
            f"n = {n}\nsteps = peak = 0\nwhile n != 1:\n    n = n // 2 if n % 2 == 0 else 3 * n + 1\n"
            "    steps += 1\n    peak = max(peak, n)\nprint(steps, peak)\n")


def _t2_chars(r: random.Random) -> tuple[str, str]:
    w, keep = r.choice(WORDS), "".join(sorted(r.sample("aeioulnrst", 4)))
    return ("What string does the loop build?",
            f"out = ''\nfor ch in '{w}':\n    if ch in '{keep}':\n        out += ch.upper()\n    else:\n"
            "        out = ch + out\nprint(out)\n")


def _t2_product(r: random.Random) -> tuple[str, str]:
    n, m = r.randint(3, 6), r.randint(2, 4)
    return ("What does the running product print?",
            f"p = 1\nfor i in range(1, {n + 1}):\n    p *= i\n    if p % {m} == 0:\n        p //= {m}\nprint(p, i)\n")


# -- tier 3: lists and dicts ---------------------------------------------------------------------------------
def _nums(r: random.Random, n: int) -> list[int]:
    return [r.randint(-9, 20) for _ in range(n)]


def _t3_comprehension(r: random.Random) -> tuple[str, str]:
    nums, m, k = _nums(r, r.randint(5, 7)), r.randint(2, 4), r.randint(2, 3)
    return ("What list does the comprehension print?",
            f"nums = {nums}\nprint([n * {k} for n in nums if n % {m} == {r.randrange(m)}])\n")


def _t3_slicing(r: random.Random) -> tuple[str, str]:
    nums = _nums(r, r.randint(6, 8))
    i, j, step = r.randint(0, 2), r.randint(3, 6), r.randint(2, 3)
    rev = r.choice(("True", "False"))
    return ("What do the sort and the slices print?",
            f"nums = {nums}\nnums.sort(reverse={rev})\nprint(nums[{i}:{j}], nums[::-{step}])\n")


def _t3_counts(r: random.Random) -> tuple[str, str]:
    words = r.sample(WORDS, r.randint(4, 6))
    return ("What counts does the dict hold?",
            f"words = {words}\ncounts = {{}}\nfor w in words:\n    counts[w[-1]] = counts.get(w[-1], 0) + len(w)\n"
            "print(counts)\n")


def _t3_zip(r: random.Random) -> tuple[str, str]:
    names = r.sample(NAMES, r.randint(3, 5))
    scores = [r.randint(1, 20) for _ in names]
    t = r.randint(5, 15)
    return ("Which names and scores are kept, and in what order?",
            f"names = {names}\nscores = {scores}\nkept = {{n: s for n, s in zip(names, scores) if s > {t}}}\n"
            "print(kept, sorted(kept, key=kept.get))\n")


def _t3_dict_ops(r: random.Random) -> tuple[str, str]:
    keys = r.sample(NAMES, 3)
    vals = [r.randint(1, 9) for _ in keys]
    d = dict(zip(keys, vals))
    k = r.randint(1, 5)
    return ("What is in the dict after the updates?",
            f"d = {d}\nd['{keys[0]}'] = d.pop('{keys[1]}') + {k}\nd.setdefault('{keys[2]}', 0)\n"
            f"d['zed'] = len(d)\nprint(d, sum(d.values()))\n")


# -- tier 4: functions ---------------------------------------------------------------------------------------
def _t4_closure(r: random.Random) -> tuple[str, str]:
    a, b, c, d = (r.randint(1, 9) for _ in range(4))
    return ("What do the closures return?",
            f"def make_adder(k):\n    def add(x):\n        return x + k\n    return add\n\nf = make_adder({a})\n"
            f"g = make_adder({b})\nprint(f(g({c})), f({d}) * 2)\n")


def _t4_counter(r: random.Random) -> tuple[str, str]:
    s, a, b = r.randint(1, 4), r.randint(2, 9), r.randint(-3, 5)
    return ("What does the counter with nonlocal state print?",
            f"def counter():\n    count = 0\n    def inc(step={s}):\n        nonlocal count\n        count += step\n"
            f"        return count\n    return inc\n\nc = counter()\nc()\nc({a})\nprint(c(), c({b}))\n")


def _t4_recursion(r: random.Random) -> tuple[str, str]:
    lo = r.randint(0, 4)
    hi = lo + r.randint(3, 5)
    base = r.randint(1, 2)
    return ("What does the recursive function return for each n?",
            f"def f(n):\n    if n <= {base}:\n        return n\n    return f(n - 1) + f(n - 2)\n\n"
            f"print([f(i) for i in range({lo}, {hi})])\n")


def _t4_nested(r: random.Random) -> tuple[str, str]:
    a, b, m = r.randint(3, 6), r.randint(4, 8), r.randint(3, 5)
    return ("Which pairs does the nested loop with break collect?",
            f"result = []\nfor i in range(1, {a}):\n    for j in range(i, {b}):\n        if (i + j) % {m} == 0:\n"
            "            result.append((i, j))\n            break\n    else:\n        result.append(i)\nprint(result)\n")


def _t4_default(r: random.Random) -> tuple[str, str]:
    xs = [r.randint(1, 9) for _ in range(3)]
    return ("What does the mutable default argument collect across calls?",
            "def add(x, bucket=[]):\n    bucket.append(x * 2)\n    return len(bucket)\n\n"
            f"print(add({xs[0]}), add({xs[1]}, []), add({xs[2]}))\nprint(add.__defaults__[0])\n")


def _t4_classify(r: random.Random) -> tuple[str, str]:
    p, q, lo = r.randint(2, 3), r.randint(4, 5), r.randint(1, 6)
    return ("What labels does the classifier print?",
            f"def label(n):\n    if n % {p * q} == 0:\n        return 'both'\n    if n % {p} == 0:\n        return 'p'\n"
            f"    return 'q' if n % {q} == 0 else str(n)\n\nprint(' '.join(label(n) for n in range({lo}, {lo + 8})))\n")


TEMPLATES: dict[int, tuple[Template, ...]] = {
    0: (_t0_sum, _t0_repeat, _t0_len, _t0_upper, _t0_first, _t0_pick, _t0_join),
    1: (_t1_arith, _t1_string, _t1_logic),
    2: (_t2_sum, _t2_while, _t2_collatz, _t2_chars, _t2_product),
    3: (_t3_comprehension, _t3_slicing, _t3_counts, _t3_zip, _t3_dict_ops),
    4: (_t4_closure, _t4_counter, _t4_recursion, _t4_nested, _t4_default, _t4_classify),
}


def is_heldout(code: str) -> bool:
    """Which side of the split a program's text falls on (the same answer wherever it was drawn)."""
    return int.from_bytes(hashlib.sha256(code.encode()).digest()[:4], "big") % HELDOUT_BUCKETS == 0


def generate(seed: int, tier: int) -> tuple[str, str]:
    """(question, code) for this seed and tier; seeds >= HELDOUT_SEED_BASE give held-out programs."""
    if tier not in TEMPLATES:
        raise ValueError(f"tier must be one of {TIERS}, not {tier!r}")
    heldout = seed >= HELDOUT_SEED_BASE
    for attempt in range(10_000):  # ~1.1 draws for training, ~10 for held-out
        r = random.Random(f"predict-output:{tier}:{seed}:{attempt}")
        question, code = r.choice(TEMPLATES[tier])(r)
        if is_heldout(code) == heldout:
            return question, code
    raise RuntimeError(f"no {'held-out' if heldout else 'training'} program for seed {seed}, tier {tier}")


def heldout_programs(n: int, tier: int) -> list[tuple[str, str]]:
    """n distinct held-out (question, code) of a tier, the same every time: the loop's evaluation set."""
    out: dict[str, tuple[str, str]] = {}
    seed = HELDOUT_SEED_BASE
    while len(out) < n:  # distinct programs: a repeat would count one task twice
        question, code = generate(seed, tier)
        out.setdefault(code, (question, code))
        seed += 1
        if seed - HELDOUT_SEED_BASE > 1000 * n + 1000:
            raise ValueError(f"tier {tier} has fewer than {n} distinct held-out programs")
    return list(out.values())


def training_seed(match_seed: int) -> int:
    """The generator seed a match plays: always on the training side."""
    return match_seed % HELDOUT_SEED_BASE


def pick_tier(match_seed: int, tier: int | str, center: float) -> int:
    """The tier of a match: `tier` when fixed; for "auto", drawn from the match seed (never from the
    order matches finish in) within 0.75 of `center`, so about 2/3 of matches play round(center)."""
    if tier != "auto":
        return int(tier)
    u = random.Random(f"predict-output-tier:{match_seed}").uniform(-0.75, 0.75)
    return min(max(math.floor(center + u + 0.5), TIERS[0]), TIERS[-1])


def next_tier_center(solve_rates: dict[int, float], current: float) -> float:
    """The next generation's tier centre from this one's solve rates per tier (exact-match share).

    The solve rate at `current` is read from the tiers either side of it (linearly between them,
    the nearest one when only one side was played). Above the target band (0.7) the centre moves
    CENTER_STEP harder, below it (0.3) CENTER_STEP easier, inside it stays; always within 1..4."""
    rates = {int(t): float(p) for t, p in solve_rates.items() if p is not None and int(t) in TEMPLATES}
    if not rates:
        return current
    below = [t for t in rates if t <= current]
    above = [t for t in rates if t >= current]
    lo, hi = (max(below) if below else None), (min(above) if above else None)
    if lo is None or hi is None or lo == hi:
        p = rates[lo if lo is not None else hi]
    else:
        w = (current - lo) / (hi - lo)
        p = rates[lo] * (1 - w) + rates[hi] * w
    if p > TARGET[1]:
        current += CENTER_STEP
    elif p < TARGET[0]:
        current -= CENTER_STEP
    return float(min(max(current, TIERS[0]), TIERS[-1]))
