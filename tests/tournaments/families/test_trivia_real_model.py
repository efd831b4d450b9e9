"""One short trivia match on the embedded SmolLM2-135M (about 6-10 calls; well under a minute on 2 cores)."""
import asyncio

import pytest

from arena.config import BUILTIN_VARIANTS
from arena.engine.family import create_family
from arena.records import SamplingParams, Variant
from tests.referees.ctxkit import make_ctx

try:
    from players.local import default_gguf
    HAVE_MODEL = default_gguf().is_file()
except Exception:  # noqa: BLE001 - no embedded model in this environment: skip, do not fail
    HAVE_MODEL = False


@pytest.mark.skipif(not HAVE_MODEL, reason="the embedded GGUF model is not installed")
def test_one_trivia_match_on_the_real_model():
    judge = Variant("judge", "local/smollm2-135m", SamplingParams(temperature=0.0, max_tokens=16))
    vs = [BUILTIN_VARIANTS["smol-cold"], BUILTIN_VARIANTS["smol-warm"], judge]
    ctx = make_ctx(vs, seats=("smol-cold", "smol-warm"), referees=("judge",), authors=("smol-cold",),
                   players=("smol-cold", "smol-warm"), family="trivia")
    fam = create_family("trivia", {"questions": 1, "page_chars": 400, "question_tokens": 48, "answer_tokens": 16,
                                   "verdict_tokens": 8, "meta": False})
    res = asyncio.run(fam.play(ctx))
    assert res.status == "finished" and res.outcome is not None
    assert {c.role for c in ctx.calls} <= {"author", "player", "referee"}
    assert all(c.error is None for c in ctx.calls)
    if res.details["questions"]:  # the model wrote a usable question: it was answered and judged
        assert {c.role for c in ctx.calls} == {"author", "player", "referee"}
        verdicts = res.details["panels"][0]["judgments"][0]["verdicts"]
        assert len(verdicts) == 2 and {v["first"] for v in verdicts} == {"smol-cold", "smol-warm"}
    else:  # it did not: a recorded format failure, an unrated outcome, never a crash
        assert [f.role for f in res.failures] == ["author"] and not res.outcome.rated
