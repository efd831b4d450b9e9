"""The likelihood verifier's backend: per-token log-probabilities of a given answer, on the real embedded model."""
import pytest

from arena.records import SamplingParams
from players.base import FATAL, BackendError, Request
from players.local import default_gguf, loaded_model, on_llama_thread
from players.local_scoring import answer_logprobs

pytest.importorskip("llama_cpp")
QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one short sentence."}]


@pytest.fixture(scope="module")
def model():
    return loaded_model(default_gguf(), None)


def test_scores_match_the_models_own_generation_logprobs(model):
    """Scoring the model's own greedy reply gives back the log-probabilities llama-cpp-python reported
    while generating it: the prompt is formatted and tokenised exactly as its chat handler does."""
    req = Request(QUESTION, SamplingParams(temperature=0.0, max_tokens=8, seed=1), logprobs=1)
    done = on_llama_thread(model.generate, req)
    generated = [max(alts.values()) for alts in done.top_logprobs]  # greedy: the top alternative was taken
    scored = answer_logprobs(model, QUESTION, done.text, end=False)
    assert len(scored.logprobs) == len(generated)
    # the first answer token is predicted from the prompt in both (one batched eval): equal; later ones
    # were evaluated token by token while generating, in one batch here: equal up to kernel rounding
    assert scored.logprobs[0] == pytest.approx(generated[0], abs=2e-3)
    assert scored.logprobs == pytest.approx(generated, abs=0.1)
    assert all(lp <= 0 for lp in scored.logprobs)


def test_a_likely_answer_scores_higher_than_a_scrambled_one(model):
    good = answer_logprobs(model, QUESTION, "The capital of France is Paris.")
    bad = answer_logprobs(model, QUESTION, "Paris capital France the of is.")
    assert good.mean > bad.mean
    assert len(good.logprobs) == len(bad.logprobs)  # the same words, and the end-of-turn token each


def test_an_answer_longer_than_the_context_is_a_fatal_backend_error(model):
    with pytest.raises(BackendError) as info:
        answer_logprobs(model, QUESTION, "word " * 5000)
    assert info.value.kind == FATAL and "context window" in str(info.value)
