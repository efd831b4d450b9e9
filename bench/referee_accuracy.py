"""Strict (JudgeBench-style) accuracy of the embedded referee, per verdict method, where the truth is known.

Pairs: the 16 built-in predict-output programs (tournaments/families/predict_output/programs.py),
each run in the sandbox for its real output; against it, a wrong prediction: the embedded model's
own (temperature 0.7) and deterministic perturbations of the real output (a number off by one, a
line dropped, lines reversed, a line repeated). The verified gap is 1 - similarity(wrong) (the
family's own scoring). Each pair is judged by the panel code (referees/panel.py) with one embedded
referee, once per method (text, probability, likelihood), both seat orders, candidates alternately
listed first. Strict: both orders alone prefer the real output (inconsistent = wrong); decided: the
panel's combined result is right (a tie is wrong). Figures: strict accuracy per method, and
"embedded panel strict referee accuracy" = the `auto` method's (referees/methods.py AUTO), target
>= 0.60 (a coin gets 0.5 of decided pairs but 0.25 strict; every-pair-a-tie gets 0).
Run: `python -m bench.referee_accuracy [--quick] [--n N]`.
"""
from __future__ import annotations

import asyncio
import json
import re
import sys
import time

from bench.common import figure, unavailable

METHODS = ("text", "probability", "likelihood")
MODEL_WRONGS = "--model-wrongs" in sys.argv  # also the embedded model's own predictions (slow: 16 generations)


def progress(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def perturbations(output: str) -> list[str]:
    """Near misses of the real output, deterministic."""
    out = output.rstrip("\n")
    lines = out.splitlines()
    found: list[str] = []
    m = re.search(r"-?\d+", out)
    if m:
        found.append(out[:m.start()] + str(int(m.group(0)) + 1) + out[m.end():])
    last = list(re.finditer(r"-?\d+", out))
    if len(last) > 1:
        found.append(out[:last[-1].start()] + str(int(last[-1].group(0)) - 1) + out[last[-1].end():])
    if len(lines) > 1:
        found.append("\n".join(lines[:-1]))
        found.append("\n".join(reversed(lines)))
        found.append("\n".join(lines[1:]))
    found.append(out + "\n" + lines[-1])
    if "True" in out or "False" in out:
        found.append(out.replace("True", "\0").replace("False", "True").replace("\0", "False"))
    return [f for f in dict.fromkeys(found) if f.strip() and f != out]


async def model_predictions(programs, seeds: int) -> list[list[str]]:
    from arena.engine.gateway import Gateway
    from arena.engine.match import MatchContext
    from arena.records import SamplingParams, ScheduledMatch, Variant
    from tournaments.families.predict_output.family import extract_prediction, prediction_prompt
    v = Variant("solver", "local/smollm2-135m", SamplingParams(temperature=0.7, max_tokens=96))
    ctx = MatchContext(ScheduledMatch("bench-p", "bench", "predict-output", ("solver",), 0, 0, 0, 7),
                       Gateway({"solver": v}))
    out = []
    for p in programs:
        prompt = [{"role": "user", "content": prediction_prompt(p)}]
        got = [extract_prediction((await ctx.ask("solver", "player", prompt)).text) for _ in range(seeds)]
        out.append(got)
    await ctx.gateway.aclose()
    return out


async def build_pairs(n: int) -> list[dict]:
    from tournaments.families.predict_output.family import check_program, normalise
    from tournaments.families.predict_output.programs import BUILTIN_PROGRAMS
    from tournaments.families.predict_output.scoring import similarity
    programs = [await check_program(q, c, timeout_s=5, memory_mb=256, max_output=4000, author=None)
                for q, c in BUILTIN_PROGRAMS]
    predicted = await model_predictions(programs, 1) if MODEL_WRONGS else [[] for _ in programs]
    per_program = []
    for p, preds in zip(programs, predicted):
        truth = normalise(p.output)
        wrongs = [normalise(w) for w in preds + perturbations(truth)]
        wrongs = [w for w in dict.fromkeys(wrongs) if w and similarity(w, p.output) < 1.0]
        per_program.append([{"program": p, "truth": truth, "wrong": w, "gap": round(1 - similarity(w, p.output), 4),
                             "source": "model" if k < len(preds) and w == normalise(preds[0]) else "perturbed"}
                            for k, w in enumerate(wrongs)])
    pairs, depth = [], 0  # round-robin over programs, so a small n still covers many programs
    while len(pairs) < n and any(len(ws) > depth for ws in per_program):
        pairs += [ws[depth] for ws in per_program if len(ws) > depth]
        depth += 1
    return pairs[:n]


async def judge_pairs(pairs: list[dict], method: str) -> dict:
    from arena.engine.gateway import Gateway
    from arena.engine.match import MatchContext
    from arena.records import SamplingParams, ScheduledMatch, Variant
    from referees.accuracy import gap_bucket, strict_right
    from referees.panel import Candidate, judge
    from tournaments.families.predict_output.family import RUBRIC_PREDICTION, prediction_prompt
    jv = Variant("judge", "local/smollm2-135m", SamplingParams(temperature=0.0, max_tokens=24))
    ctx = MatchContext(ScheduledMatch("bench-j", "bench", "predict-output", ("truth", "wrong"), 0, 0, 0, 1),
                       Gateway({"judge": jv}), referees=("judge",))
    strict = decided = 0
    buckets: dict[str, list[int]] = {}
    started = time.perf_counter()
    for k, pair in enumerate(pairs):
        p = pair["program"]
        cands = [Candidate("truth", pair["truth"], 0), Candidate("wrong", pair["wrong"], 1)]
        if k % 2:
            cands.reverse()
        res = await judge(ctx, role="player", task=f"{p.shown()}\n\nPredict what this program prints.",
                          candidates=cands, rubric=RUBRIC_PREDICTION, criterion="prediction",
                          prompt=[{"role": "user", "content": prediction_prompt(p)}], method=method)
        j = res.judgments[0]
        sign = 1 if cands[0].variant == "truth" else -1
        orders = j.pairs[0]["orders"] if j.pairs else [j.results[0][2]] * 2
        ok = strict_right(orders, sign)
        strict += ok
        decided += j.results[0][2] == sign
        b = buckets.setdefault(gap_bucket(pair["gap"]), [0, 0])
        b[0] += ok
        b[1] += 1
        progress(method, k, orders, sign, ok, round(time.perf_counter() - started, 1))
    seconds = time.perf_counter() - started
    await ctx.gateway.aclose()
    return {"method": method, "n": len(pairs), "strict": strict, "decided_right": decided, "buckets": buckets,
            "seconds": round(seconds, 1), "used": j.method if pairs else None}


async def measure(n: int, methods=METHODS) -> dict:
    pairs = await build_pairs(n)
    progress(f"{len(pairs)} pairs")
    out = {"pairs": len(pairs), "sources": {s: sum(p["source"] == s for p in pairs) for s in ("model", "perturbed")},
           "methods": {}}
    from referees import methods as how
    for m in methods:
        out["methods"][m] = await judge_pairs(pairs, m)
        if m == "likelihood":  # the same without the end-of-turn token, to choose LIKELIHOOD_END
            how.LIKELIHOOD_END = not how.LIKELIHOOD_END
            try:
                out["methods"]["likelihood-end" if how.LIKELIHOOD_END else "likelihood-noend"] = await judge_pairs(pairs, m)
            finally:
                how.LIKELIHOOD_END = not how.LIKELIHOOD_END
    return out


def run(quick: bool = False, n: int | None = None, methods=METHODS) -> list[dict]:
    from referees.accuracy import wilson
    from referees.methods import AUTO
    try:
        m = asyncio.run(measure(n or (8 if quick else 64), methods))
    except Exception as exc:  # noqa: BLE001 - a benchmark reports why it could not measure
        return [unavailable("embedded_panel_strict_referee_accuracy", "share", ">= 0.60",
                            f"{type(exc).__name__}: {exc}")]
    figs = []
    for name, r in m["methods"].items():
        share = r["strict"] / r["n"] if r["n"] else None
        ci = wilson(r["strict"], r["n"])
        figs.append(figure(f"referee_strict_accuracy_{name}", share, "share of pairs", 0.25, None, "> 0.5",
                           share is not None and share > 0.5,
                           f"{r['n']} predict-output pairs, 95% CI {ci}; decided right {r['decided_right']}; "
                           f"by gap {r['buckets']}; {r['seconds']} s; reference: a coin, strict (0.5 x 0.5)"))
    auto = m["methods"].get(AUTO["predict-output"])
    if auto:
        share = auto["strict"] / auto["n"] if auto["n"] else None
        figs.append(figure("embedded_panel_strict_referee_accuracy", share, "share of pairs", 0.5, None, ">= 0.60",
                           share is not None and share >= 0.60,
                           f"one embedded referee by method {AUTO['predict-output']} (auto on predict-output), {auto['n']} "
                           f"pairs whose verified scores differ, 95% CI {wilson(auto['strict'], auto['n'])}; coin = 0.5; "
                           f"main: 0. The default run and loop seat two referees by two methods (so referees get "
                           f"decisive rated matches); that panel ties wherever they disagree and scores 0"))
    return figs


if __name__ == "__main__":
    args = sys.argv[1:]
    count = int(args[args.index("--n") + 1]) if "--n" in args else None
    chosen = tuple(args[args.index("--methods") + 1].split(",")) if "--methods" in args else METHODS
    for fig in run("--quick" in args, count, chosen):
        print(json.dumps(fig))
