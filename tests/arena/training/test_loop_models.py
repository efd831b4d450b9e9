"""`arena loop` frees each generation's llama.cpp model once its tournament is played: every
generation is a new checkpoint, and keeping them all loaded would grow the process by one model
per generation."""
from __future__ import annotations

from arena.config import parse_config
from arena.training.loop import _run
from players.local import default_gguf, loaded_model


def test_a_loop_tournament_leaves_no_llama_cpp_model_loaded(tmp_path):
    cfg = parse_config({"tournament": {"families": ["chess"], "players": ["smol-cold", "random"]},
                        "families": {"chess": {"max_plies": 2, "max_retries": 0}}})
    model = loaded_model(default_gguf(), None)
    _run(cfg, tmp_path, None, lambda _: None)
    assert model._llm is None  # closed, its memory given back
    assert loaded_model(default_gguf(), None) is not model  # the next generation loads afresh
