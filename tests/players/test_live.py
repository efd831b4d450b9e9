"""Optional: one real call to each hosted provider, only when its key is in the
environment (skipped otherwise, e.g. in CI). Costs a fraction of a cent."""
from __future__ import annotations

import os

import pytest

from arena.engine.gateway import Gateway
from arena.records import SamplingParams, Variant
from tests.players.wire import ask, fast_retry, run

LIVE = [
    pytest.param("openai/gpt-4o-mini", marks=pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"),
                                                                reason="OPENAI_API_KEY not set")),
    pytest.param("anthropic/claude-haiku-4-5", marks=pytest.mark.skipif(not os.environ.get("ANTHROPIC_API_KEY"),
                                                                       reason="ANTHROPIC_API_KEY not set")),
]


@pytest.mark.parametrize("model", LIVE)
def test_a_hosted_model_answers_and_is_priced(model):
    async def go():
        v = Variant("live", model, SamplingParams(max_tokens=8))
        gw = Gateway({"live": v}, retry=fast_retry(base_delay_s=1.0, max_delay_s=10.0))
        c = await ask(gw, "live", "Reply with the single word: pong")
        await gw.aclose()
        return c

    c = run(go())
    assert "pong" in c.text.lower()
    assert c.input_tokens > 0 and c.output_tokens > 0 and c.cost_usd > 0
