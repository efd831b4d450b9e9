"""How referees reach verdicts: probability and likelihood on the real embedded model, text elsewhere."""
import asyncio

import pytest

from arena.engine.gateway import Gateway
from arena.engine.match import MatchContext
from arena.errors import UserError
from arena.records import SamplingParams, ScheduledMatch, Variant
from referees import methods
from referees.panel import Candidate, judge
from referees.probability import both_orders, likelihood_p
from tests.referees.ctxkit import make_ctx, players, variant

PROGRAM = "print(sorted([3, 1, 2]))"
TASK = f"```python\n{PROGRAM}\n```\n\nPredict what this program prints."
PROMPT = [{"role": "user", "content": f"```python\n{PROGRAM}\n```\n\nWhat exactly does this program print? "
                                      "Reply with the exact output only, inside one ``` block."}]
CANDS = [Candidate("p1", "[1, 2, 3]", 0), Candidate("p2", "[3, 1, 2]", 1)]


def embedded(family="predict-output"):
    judge_v = Variant("judge", "local/smollm2-135m", SamplingParams(temperature=0.0, max_tokens=24))
    return MatchContext(ScheduledMatch("m-1", "t-1", family, ("p1", "p2"), 0, 0, 0, 5), Gateway({"judge": judge_v}),
                        referees=("judge",))


def run_judge(ctx, **kw):
    async def go():
        try:
            return await judge(ctx, role="player", task=TASK, candidates=CANDS, rubric="The exact output is better.",
                               prompt=PROMPT, **kw)
        finally:
            await ctx.gateway.aclose()
    return asyncio.run(go())


def test_probability_verdicts_from_the_embedded_models_logprobs():
    ctx = embedded()
    res = run_judge(ctx, method="probability")
    j = res.judgments[0]
    assert j.method == "probability" and res.ranked.ranked_by == "referees:judge by probability"
    forward, backward = (v.probability for v in j.verdicts)
    assert 0.0 <= forward <= 1.0 and 0.0 <= backward <= 1.0
    p = j.pairs[0]["p"]
    assert p == pytest.approx(both_orders(forward, backward), abs=1e-3)
    # each verdict is one short call that asked for log-probabilities, recorded like any call
    assert [c.role for c in ctx.calls] == ["referee", "referee"]
    assert all(c.output_tokens <= 3 for c in ctx.calls)
    assert j.results[0][2] == (0 if abs(p - 0.5) < 0.02 else 1 if p > 0.5 else -1)


def test_likelihood_verifier_ranks_by_each_answers_likelihood_without_generating():
    ctx = embedded()
    res = run_judge(ctx, method="likelihood")
    j = res.judgments[0]
    assert j.method == "likelihood" and res.ranked.ranked_by.endswith("by likelihood")
    assert ctx.calls == []  # nothing generated
    means = j.pairs[0]["means"]
    assert all(m < 0 for m in means) and j.pairs[0]["p"] == pytest.approx(likelihood_p(*means), abs=1e-3)
    p = j.pairs[0]["p"]
    decided = 0 if abs(p - 0.5) < methods.LIKELIHOOD_ABSTAIN else 1 if p > 0.5 else -1
    assert j.results[0][2] == decided and j.pairs[0]["orders"] == [decided, decided]  # the same in both orders
    assert [e.rank for e in res.ranked.entries] == {1: [0, 1], -1: [1, 0], 0: [0, 0]}[decided]
    assert sum(t["type"] == "likelihood" for t in ctx.transcript) == 2


def test_backends_without_logprobs_keep_text_verdicts():
    # a scripted referee cannot give log-probabilities or likelihoods: it writes verdicts as before
    ctx = make_ctx(players() + [variant("ref", "script", script=["A", "B"])], referees=("ref",),
                   family="predict-output")
    for asked in ("probability", "likelihood", "auto"):
        assert methods.method_for(ctx, "ref", asked, 2) == "text"
    res = asyncio.run(judge(ctx, role="player", task="t", candidates=CANDS, rubric="r", method="likelihood"))
    assert res.judgments[0].method == "text" and res.ranked.ranked_by == "referees:ref"
    assert res.judgments[0].results == [[0, 1, 1]]


def test_auto_takes_the_familys_measured_method_and_falls_back_by_backend():
    ctx = embedded("predict-output")
    assert methods.method_for(ctx, "judge", "auto", 2) == methods.AUTO["predict-output"]
    assert methods.method_for(ctx, "judge", None, 2) == methods.AUTO["predict-output"]
    assert methods.method_for(embedded("negotiation"), "judge", "auto", 2) == methods.AUTO_DEFAULT
    assert methods.method_for(ctx, "judge", "probability", methods.PROBABILITY_MAX_CANDIDATES + 1) == "text"
    assert methods.method_for(ctx, "judge", "text", 2) == "text"


def test_a_referee_can_have_its_own_method():
    ctx = embedded("predict-output")
    ctx.options["referee_methods"] = {"judge": "probability"}
    assert methods.method_for(ctx, "judge", "likelihood", 2) == "probability"  # its own entry wins
    assert methods.method_for(ctx, "other", "text", 2) == "text"  # the others keep the family's `method`
    res = run_judge(ctx, method="likelihood")
    assert res.judgments[0].method == "probability" and res.ranked.ranked_by.endswith("by probability")


def test_referee_methods_name_declared_variants_and_known_methods():
    from arena.config import ConfigError, parse_config
    base = {"tournament": {"players": ["random", "first"], "families": ["predict-output"]}}
    with pytest.raises(ConfigError, match="unknown variant 'nobody' in \\[families.predict-output\\] referee_methods"):
        parse_config({**base, "families": {"predict-output": {"referee_methods": {"nobody": "text"}}}})
    from tournaments.families.predict_output.family import create
    with pytest.raises((UserError, ValueError)) as info:
        create({"referee_methods": {"random": "vibes"}})
    assert "referee_methods" in str(info.value)


def test_the_method_option_is_checked():
    from tournaments.families.predict_output.family import create
    create({"method": "likelihood"})
    with pytest.raises((UserError, ValueError)) as info:
        create({"method": "vibes"})
    assert "method" in str(info.value)
