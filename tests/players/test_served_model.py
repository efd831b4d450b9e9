"""The file llama-server decodes: the embedded model's Q4_1 weights, which ggml multiplies one
sequence at a time, re-encoded once as Q8_0, which it batches (players/served_model.py)."""
from __future__ import annotations

import asyncio

import pytest

import players.llama_server as managed
from arena.records import SamplingParams, Variant
from players.base import Request
from players.local import create, default_gguf
from players.served_model import file_type, served_gguf

pytest.importorskip("llama_cpp")
Q4_1, Q8_0 = 3, 7  # llama.h's llama_ftype values


def test_the_embedded_model_is_re_encoded_once_and_a_batched_type_is_served_as_it_is(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_SERVED_MODELS", str(tmp_path))
    assert file_type(default_gguf()) == Q4_1
    served = served_gguf(default_gguf(), threads=2)
    assert served.parent == tmp_path and file_type(served) == Q8_0
    assert [p.name for p in tmp_path.iterdir()] == [served.name]  # no partial file left behind
    written = served.stat().st_mtime_ns
    assert served_gguf(default_gguf(), threads=2) == served and served.stat().st_mtime_ns == written
    assert served_gguf(served, threads=2) == served.resolve()  # already batched: decoded as it is


def test_a_changed_model_file_gets_a_new_re_encoding(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_SERVED_MODELS", str(tmp_path / "served"))
    model = tmp_path / "model.gguf"
    model.write_bytes(default_gguf().read_bytes())
    first = served_gguf(model, threads=2)
    model.write_bytes(default_gguf().read_bytes())  # the same name, written again: another file
    assert served_gguf(model, threads=2) != first


@pytest.mark.skipif(not managed.available(), reason="llama-server is not built (scripts/build-llama-server.sh)")
def test_the_server_decodes_the_re_encoding_and_answers(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_SERVED_MODELS", str(tmp_path))
    done, loaded = _serve_once(parallel=3)
    assert loaded.startswith(str(tmp_path)) and loaded.endswith(".q8_0.gguf")
    assert done.text.strip() and done.output_tokens > 0


def test_a_fine_tuned_child_with_its_bases_q4_1_tensors_is_re_encoded(tmp_path, monkeypatch):
    """A child's changed tensors are Q8_0; the base's Q4_1 ones it copied still have no batched
    kernel, so it is re-encoded too, whatever its file type says."""
    pytest.importorskip("torch")
    pytest.importorskip("gguf")
    from arena.training.gguf import write_merged_gguf
    from arena.training.train import load_model
    monkeypatch.setenv("ARENA_SERVED_MODELS", str(tmp_path / "served"))
    state = load_model(default_gguf()).state_dict()
    name = next(k for k in state if k.endswith("layers.0.self_attn.v_proj.weight"))
    state[name] = state[name] * 1.01  # what a LoRA merge does to the tensors it touched
    child = tmp_path / "child.gguf"
    report = write_merged_gguf(default_gguf(), state, child, changed_type="q8_0")
    import gguf
    kinds = {t.tensor_type.name for t in gguf.GGUFReader(str(child)).tensors}
    assert report.changed and report.copied and {"Q8_0", "Q4_1"} <= kinds
    served = served_gguf(child, threads=2)
    assert served != child.resolve() and served.parent == tmp_path / "served"


@pytest.mark.skipif(not managed.available(), reason="llama-server is not built (scripts/build-llama-server.sh)")
def test_a_cache_that_cannot_be_written_leaves_the_model_as_it_is(tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("ARENA_SERVED_MODELS", str(blocked))
    done, loaded = _serve_once(parallel=5)
    assert loaded == str(default_gguf().resolve()) and done.output_tokens > 0


def _serve_once(parallel: int):
    """One call through a served backend; its answer and the file its server loaded. `parallel`
    gives each test a server of its own, not one an earlier test left running on another cache."""
    async def go():
        params = SamplingParams(temperature=0.0, max_tokens=8)
        backend = create(Variant("smol", "local/smollm2-135m", params, options={"server": "on", "parallel": parallel}))
        done = await backend.complete(Request([{"role": "user", "content": "Say hi."}], params))
        args = list(backend.server.proc.args)
        await backend.aclose()
        return done, args[args.index("-m") + 1]

    return asyncio.run(go())
