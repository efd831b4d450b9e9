"""How one referee reaches its verdicts: by text, by verdict-token probability, or by likelihood.

The family option `method = "auto" | "text" | "probability" | "likelihood"` (docs/referees.md), and
`referee_methods = {variant = method}` for single referees:
- text: the referee writes a verdict letter, parsed by referees/verdicts.py (both seat orders,
  disagreement = tie). Every backend can do it.
- probability: the verdict letter is asked with max_tokens=PROBABILITY_TOKENS and the top
  log-probabilities of its tokens; p = 1/2 [P(A | i first) + P(B | i second)] (referees/probability.py),
  a tie only when |p - 1/2| < ABSTAIN. Backends with log-probabilities: local/, openai/, openai-api/.
- likelihood: no verdict is written; each answer's mean token log-likelihood as the referee's own
  reply to the task (players/local_scoring.py) ranks them. local/ only (no generation, one forward
  pass per answer).
A referee whose backend cannot do the method asked falls back: likelihood -> probability -> text.
`auto` takes the family's measured best (AUTO, measured by bench/referee_accuracy.py: the method
with the best strict accuracy on pairs with known truth), else AUTO_DEFAULT.
"""
from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arena.engine.gateway import CallFailed
from arena.engine.match import failed_as, gather_calls
from arena.records import Messages, Verdict
from referees import probability as prob
from referees.verdicts import TIE, A, B, parse_pairwise

if TYPE_CHECKING:
    from arena.engine.match import MatchContext

METHODS = ("auto", "text", "probability", "likelihood")
LOGPROB_PROVIDERS = frozenset({"local", "openai", "openai-api"})
SCORING_PROVIDERS = frozenset({"local"})
# Measured per family (bench/referee_accuracy.py, embedded SmolLM2-135M, strict accuracy: both orders
# agree and are right; see docs/referees.md for the figures). A family not measured here gets
# AUTO_DEFAULT: it decides (a text verdict of the embedded model is a tie on nearly every pair) and its
# position bias cancels.
AUTO: dict[str, str] = {"predict-output": "likelihood"}
AUTO_DEFAULT = "probability"
# A likelihood tie only when the two means are within ~0.02 nats per token: near misses of a
# program's output differ from it by a token or two, so their means differ by little
LIKELIHOOD_ABSTAIN = 0.005
LIKELIHOOD_END = True  # the end-of-turn token counts as the answer's last token (players/local_scoring.py)
PROBABILITY_MAX_CANDIDATES = 6  # beyond this, n(n-1) verdict calls per referee: rank the list by text


def method_for(ctx: "MatchContext", referee: str, requested: str | None, n_candidates: int) -> str:
    """The method `referee` uses on this panel (see module docstring): its own entry in the family
    option `referee_methods`, else `requested` (the option `method`)."""
    want = (ctx.options.get("referee_methods") or {}).get(referee) or requested or "auto"
    if want == "auto":
        want = AUTO.get(ctx.match.family, AUTO_DEFAULT)
    variant = ctx.gateway.variants.get(referee)
    provider = variant.provider if variant is not None else ""
    if want == "likelihood" and provider not in SCORING_PROVIDERS:
        want = "probability"
    if want == "probability" and (provider not in LOGPROB_PROVIDERS or n_candidates > PROBABILITY_MAX_CANDIDATES):
        want = "text"
    return want


@dataclass
class Reached:
    """One referee's verdicts on every pair, however reached."""

    results: dict[tuple[int, int], int | None]
    verdicts: list[Verdict]
    missing: int
    text: str  # its verdict on the first pair in the first order (the judging prompt's reply)
    pairs: list[dict[str, Any]] = field(default_factory=list)


def _winner(p: float | None) -> str | None:
    if p is None:
        return None
    return A if p > 0.5 else B if p < 0.5 else TIE


def _letter(result: int | None) -> str:
    return {1: A, -1: B, 0: "T"}.get(result, "")  # type: ignore[arg-type]


async def by_probability(ctx: "MatchContext", call_role: str, ref: str, plan: Any) -> Reached:
    """Every pair of `plan` (a pairwise plan: .cands, .pairs, .shown, .messages) in both orders."""
    async def one(messages: Messages) -> tuple[float | None, str]:
        try:
            done = await ctx.ask(ref, call_role, messages, max_tokens=prob.PROBABILITY_TOKENS,
                                 logprobs=prob.TOP_LOGPROBS)
        except CallFailed as exc:  # not a missing verdict: the match fails and a re-run replays it
            raise failed_as(exc, ref, call_role)
        if done.top_logprobs is None:  # the backend gave no log-probabilities after all: read the text
            label = parse_pairwise(done.text)
            return {A: 1.0, B: 0.0, TIE: 0.5}.get(label), done.text  # type: ignore[arg-type]
        return prob.label_share(done.top_logprobs), done.text

    got = await gather_calls(one(m) for m in plan.messages)
    c = plan.cands
    verdicts = [Verdict(ref, c[x].variant, c[y].variant, _winner(p), len(c[x].text), len(c[y].text), "pairwise",
                        False, "probability", None if p is None else round(p, 4))
                for (x, y), (p, _) in zip(plan.shown, got)]
    results, pairs = {}, []
    for k, (i, j) in enumerate(plan.pairs):
        forward, backward = got[2 * k][0], got[2 * k + 1][0]
        p = prob.both_orders(forward, backward)
        results[(i, j)] = prob.decide(p)
        back = prob.order_reading(backward)
        pairs.append({"i": i, "j": j, "orders": [prob.order_reading(forward), None if back is None else -back],
                      "p": None if p is None else round(p, 4)})
    missing = sum(p is None for p, _ in got)
    first = got[0][0] if got else None
    return Reached(results, verdicts, missing, _letter(prob.order_reading(first)) or got[0][1] if got else "",
                   pairs)


async def answer_means(ctx: "MatchContext", ref: str, prompt: Messages, texts: list[str]) -> list[float]:
    """Mean token log-likelihood of each text as `ref`'s reply to `prompt` (local/ variants only)."""
    from players.local import LLAMA_EXECUTOR, llama_turn, loaded_model, model_path
    from players.local_scoring import score
    variant = ctx.gateway.variants[ref]
    model = loaded_model(model_path(variant), variant.adapter)
    messages = ctx.gateway.full_messages(variant, prompt)  # its system prompt too, as a call would send
    means = []
    for text in texts:
        turn = llama_turn()  # queue with the gateway's calls: one llama.cpp job at a time
        await turn.acquire()
        try:
            scored = await asyncio.wrap_future(LLAMA_EXECUTOR.submit(score, model, messages, text,
                                                                     LIKELIHOOD_END))
        finally:
            turn.release()
        ctx.log("likelihood", referee=ref, tokens=scored.prompt_tokens + len(scored.logprobs),
                seconds=round(scored.latency_s, 3), mean=round(scored.mean, 4) if math.isfinite(scored.mean) else None)
        means.append(scored.mean)
    return means


async def by_likelihood(ctx: "MatchContext", ref: str, plan: Any, prompt: Messages) -> Reached:
    """Each candidate's likelihood as the reply to `prompt`; a pair's p is the logistic of the
    difference of the two means, the same in both seat orders (nothing is shown in an order)."""
    c = plan.cands
    means = await answer_means(ctx, ref, prompt, [cand.text for cand in c])
    results, pairs, verdicts = {}, [], []
    for i, j in plan.pairs:
        p = prob.likelihood_p(means[i], means[j])
        r = prob.decide(p, LIKELIHOOD_ABSTAIN)
        results[(i, j)] = r
        pairs.append({"i": i, "j": j, "orders": [r, r], "p": round(p, 4),
                      "means": [round(m, 4) if math.isfinite(m) else None for m in (means[i], means[j])]})
        for x, y, px in ((i, j, p), (j, i, 1 - p)):  # both orders, so seat statistics stay balanced
            verdicts.append(Verdict(ref, c[x].variant, c[y].variant, _winner(px), len(c[x].text), len(c[y].text),
                                    "pairwise", False, "likelihood", round(px, 4)))
    first = results.get(plan.pairs[0]) if plan.pairs else None
    return Reached(results, verdicts, 0, _letter(first), pairs)
