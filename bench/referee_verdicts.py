"""The embedded referee: how often SmolLM2-135M gives a readable verdict, how often it is right,
how position-biased it is, and how long a verdict takes.

A fixed set of questions with one right and one wrong answer is judged by the panel code
(referees/panel.py) in both seat orders, exactly as in a match. Figures:
- readable verdicts (after at most one re-ask), share of all verdicts asked
- accuracy of the combined both-order results on the pairs it decided (a tie counts as wrong)
- first-seat wins among decisive verdicts (0.5 = no position bias)
- seconds per verdict call
Run: `python -m bench.referee_verdicts [--quick]`.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time

from bench.common import figure, unavailable

PAIRS = [("What is the capital of France?", "Paris", "Berlin"),
         ("How many legs does a spider have?", "Eight", "Six"),
         ("Who wrote Hamlet?", "William Shakespeare", "Charles Dickens"),
         ("What is 2 + 2?", "4", "5"),
         ("Which planet is the largest in the Solar System?", "Jupiter", "Mars"),
         ("What gas do plants release in photosynthesis?", "Oxygen", "Helium"),
         ("In which country is Machu Picchu?", "Peru", "Norway"),
         ("What is frozen water called?", "Ice", "Steam")]


async def measure(n: int) -> dict:
    from arena.engine.gateway import Gateway
    from arena.engine.match import MatchContext
    from arena.records import SamplingParams, ScheduledMatch, Variant
    from referees.panel import Candidate, judge
    judge_v = Variant("judge", "local/smollm2-135m", SamplingParams(temperature=0.0, max_tokens=24))
    ctx = MatchContext(ScheduledMatch("bench", "bench", "bench", ("right", "wrong"), 0, 0, 0, 1),
                       Gateway({"judge": judge_v}), referees=("judge",))
    asked = readable = decided = correct = decisive = first = 0
    started = time.perf_counter()
    for k, (q, right, wrong) in enumerate(PAIRS[:n]):
        cands = [Candidate("right", right, 0), Candidate("wrong", wrong, 1)]
        if k % 2:  # alternate which candidate is listed first
            cands.reverse()
        res = await judge(ctx, role="player", task=q, candidates=cands, rubric="The correct answer is better.")
        j = res.judgments[0]
        for v in j.verdicts:
            asked += 1
            readable += v.winner is not None
            if v.winner in ("A", "B"):
                decisive += 1
                first += v.winner == "A"
        result = j.results[0][2]
        if result is not None:
            decided += 1
            correct += result == (1 if cands[0].variant == "right" else -1)
    calls = len(ctx.calls)
    elapsed = time.perf_counter() - started
    await ctx.gateway.aclose()
    return {"asked": asked, "readable": readable, "decided": decided, "correct": correct, "decisive": decisive,
            "first": first, "calls": calls, "seconds": elapsed}


def run(quick: bool = False) -> list[dict]:
    try:
        m = asyncio.run(measure(4 if quick else len(PAIRS)))
    except Exception as exc:  # noqa: BLE001 - a benchmark reports why it could not measure
        return [unavailable("referee_readable_verdicts", "share", "> 0.7", f"{type(exc).__name__}: {exc}")]
    readable = m["readable"] / m["asked"] if m["asked"] else None
    accuracy = m["correct"] / m["decided"] if m["decided"] else None
    bias = m["first"] / m["decisive"] if m["decisive"] else None
    per_call = m["seconds"] / m["calls"] if m["calls"] else None
    note = f"{m['asked']} verdicts, {m['calls']} calls (re-asks included), embedded SmolLM2-135M at temperature 0"
    return [figure("referee_readable_verdicts", readable, "share", None, None, "> 0.7",
                   readable is not None and readable > 0.7, note),
            figure("referee_accuracy_both_orders", accuracy, "share of decided pairs", 0.5, None, "> 0.5",
                   accuracy is not None and accuracy > 0.5, f"{m['decided']} pairs decided; reference: a coin"),
            figure("referee_first_seat_wins", bias, "share of decisive verdicts", 0.5, None, "0.5 = unbiased",
                   None, "both-order judging turns this bias into ties"),
            figure("referee_seconds_per_verdict", per_call, "s", None, None, "< 1 s on an idle 2-core machine",
                   per_call is not None and per_call < 1.0, "measured under whatever load the machine has")]


if __name__ == "__main__":
    for fig in run("--quick" in sys.argv):
        print(json.dumps(fig))
