"""One short trivia match on the embedded SmolLM2-135M (about 6-10 calls; well under a minute on 2 quiet cores)."""
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
    fam = create_family("trivia", {"questions": 1, "page_chars": 400, "question_tokens": 80, "answer_tokens": 16,
                                   "verdict_tokens": 8, "meta": False})
    res = asyncio.run(fam.play(ctx))
    assert res.status == "finished" and res.outcome is not None
    assert {c.role for c in ctx.calls} <= {"author", "player", "referee"}
    assert all(c.error is None for c in ctx.calls)
    # the authored pair is asked under its JSON schema, which the grammar enforces: it always parses
    authored = [c for c in ctx.calls if c.role == "author"]
    assert len(authored) == 1 and authored[0].constrained
    assert len(res.details["questions"]) == 1 and not [f for f in res.failures if f.role == "author"]
    # the page's own fill-in question is graded by closeness: the outcome is rated without any referee verdict
    assert res.details["page_questions"] and res.outcome.rated
    assert any(g["verified"] for g in res.details["grading"])
