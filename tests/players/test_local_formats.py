"""The embedded backend's log-probabilities and format constraints (llama.cpp grammars), with
the real SmolLM2-135M GGUF."""
import asyncio
import math

from arena.records import SamplingParams, Variant
from players.base import Request
from players.local import create

V = Variant("v", "local/smollm2-135m", SamplingParams(temperature=0.7, max_tokens=8))
ASK = [{"role": "user", "content": "Name a colour."}]


def _complete(req: Request):
    return asyncio.run(create(V).complete(req))


def test_logprobs_come_back_per_generated_token_with_the_top_alternatives():
    c = _complete(Request(ASK, V.params.replace(seed=3), logprobs=3))
    assert c.top_logprobs is not None and len(c.top_logprobs) == c.output_tokens > 0
    for alternatives in c.top_logprobs:
        assert 1 <= len(alternatives) <= 4  # the top 3, plus the sampled token if it was not among them
        assert all(isinstance(t, str) and lp <= 0.0 and math.isfinite(lp) for t, lp in alternatives.items())


def test_without_logprobs_asked_none_come_back_and_the_answer_is_unchanged():
    plain = _complete(Request(ASK, V.params.replace(seed=5)))
    scored = _complete(Request(ASK, V.params.replace(seed=5), logprobs=2))
    assert plain.top_logprobs is None
    assert scored.text == plain.text  # asking for log-probabilities does not change what is generated


CHOICES = ("e4", "Nf3", 'say "hi"', "back\\slash", "O-O-O")


def test_a_choices_constraint_yields_exactly_one_of_the_choices_even_odd_ones():
    from arena.records import Constraint
    hot = V.params.replace(temperature=1.2, max_tokens=12)
    seen = set()
    for seed in range(6):
        c = _complete(Request([{"role": "user", "content": "Your move?"}], hot.replace(seed=seed),
                              constraint=Constraint(choices=CHOICES)))
        assert c.text in CHOICES and c.constrained
        seen.add(c.text)
    assert seen  # (which ones is the model's business)


def test_a_schema_constraint_yields_json_valid_under_the_schema():
    import json

    import pytest
    jsonschema = pytest.importorskip("jsonschema")
    from arena.records import Constraint
    schema = {"type": "object", "properties": {"title": {"type": "string", "maxLength": 30},
                                               "level": {"type": "integer"},
                                               "kind": {"enum": ["easy", "hard"]}},
              "required": ["title", "level", "kind"], "additionalProperties": False}
    for seed in range(2):
        c = _complete(Request([{"role": "user", "content": "Describe a programming task."}],
                              V.params.replace(seed=seed, max_tokens=80), constraint=Constraint.json_schema(schema)))
        assert c.constrained and c.finish_reason == "stop"
        jsonschema.validate(json.loads(c.text), schema)


def test_an_unconstrained_call_says_so():
    assert not _complete(Request(ASK, V.params.replace(seed=1))).constrained
