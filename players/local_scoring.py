"""How likely an embedded (llama.cpp) model finds a given answer: the likelihood verifier's backend.

`answer_logprobs(model, messages, answer)` returns the log-probability of every token of `answer`
as the assistant's reply to `messages`, with no generation: the chat prompt is formatted with the
model's own chat template exactly as llama-cpp-python's chat handler formats it for
create_chat_completion (same template, same bos/eos strings, same tokenisation of the prompt), the
answer is tokenised on its own (as generation would have produced it after the prompt), and
prompt + answer are evaluated once, asking llama.cpp for logits only at the answer's positions (so
no n_ctx x vocabulary score matrix, as logits_all=True would allocate). The end-of-turn token
counts as the answer's last token: an answer that stops too early or runs on is less likely.

Runs on the llama.cpp thread (players.local.on_llama_thread): llama.cpp is not thread-safe, and the
shared model's generation state is reset before the next generation anyway (LoadedModel.generate).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena.records import Messages
from players.base import FATAL, BackendError
from players.local import LoadedModel, on_llama_thread


@dataclass
class Scored:
    """One answer's token log-probabilities, and what scoring it cost."""

    logprobs: list[float]
    prompt_tokens: int
    latency_s: float

    @property
    def mean(self) -> float:
        """Mean log-probability per token (-inf for an answer with no tokens)."""
        return sum(self.logprobs) / len(self.logprobs) if self.logprobs else -math.inf


def _formatter(llm: Any):
    """The chat formatter llama-cpp-python builds from the GGUF's own template (Llama.__init__)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise BackendError("this GGUF has no chat template: its answers cannot be scored as chat replies", FATAL)
    eos, bos = llm.token_eos(), llm.token_bos()
    text = llm._model.token_get_text
    return Jinja2ChatFormatter(template=template, eos_token=text(eos) if eos != -1 else "",
                               bos_token=text(bos) if bos != -1 else "", stop_token_ids=[eos])


def _tokens(llm: Any, messages: Messages, answer: str, end: bool) -> tuple[list[int], list[int]]:
    formatted = _formatter(llm)(messages=list(messages))
    prompt = llm.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)
    reply = llm.tokenize(answer.encode("utf-8"), add_bos=False, special=False)
    stop = formatted.stop[0] if isinstance(formatted.stop, list) and formatted.stop else None
    if end and stop:  # the end-of-turn marker, as the template writes it after an assistant message
        reply += llm.tokenize(stop.encode("utf-8"), add_bos=False, special=True)
    return prompt, reply


def score(model: LoadedModel, messages: Messages, answer: str, end: bool = True) -> Scored:
    """answer_logprobs, on the calling thread: call it on the llama.cpp thread only."""
    import llama_cpp
    started = time.perf_counter()
    llm = model.llm()
    prompt, reply = _tokens(llm, messages, answer, end)
    tokens = prompt + reply
    if len(tokens) > llm.n_ctx():
        raise BackendError(f"prompt and answer are {len(tokens)} tokens, longer than the context "
                           f"window ({llm.n_ctx()})", FATAL)
    # Logits at position t predict token t + 1: the answer's tokens are predicted from the last
    # prompt position to the second-to-last token.
    wanted = set(range(len(prompt) - 1, len(tokens) - 1))
    llm.reset()
    llm._ctx.kv_cache_seq_rm(-1, 0, -1)
    out: list[float] = []
    step = llm.n_batch
    try:
        for start in range(0, len(tokens), step):
            chunk = tokens[start:start + step]
            batch = llm._batch
            batch.set_batch(batch=chunk, n_past=start, logits_all=False)
            for i in range(len(chunk)):
                batch.batch.logits[i] = (start + i) in wanted
            llm._ctx.decode(batch)
            for i in range(len(chunk)):
                if (start + i) in wanted:
                    row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, i),
                                                shape=(llm.n_vocab(),)).astype(np.float64)
                    top = row.max()
                    log_z = top + math.log(float(np.exp(row - top).sum()))
                    out.append(float(row[tokens[start + i + 1]] - log_z))
    finally:
        llm.reset()  # the next generation evaluates its prompt afresh (and clears this cache)
    return Scored(out, len(prompt), time.perf_counter() - started)


def answer_logprobs(model: LoadedModel, messages: Messages, answer: str, end: bool = True) -> Scored:
    """Log-probability of each token of `answer` as the reply to `messages` (see module docstring);
    end=False leaves the end-of-turn token out."""
    return on_llama_thread(score, model, messages, answer, end)
