"""The file llama-server decodes: weights of a type ggml multiplies one sequence at a time (the
embedded model's Q4_1 without AMX, Q5_1 everywhere) re-encoded once as Q8_0, which it batches; a
batched type as it is (players/served_model.py)."""
from __future__ import annotations

import asyncio
import ctypes

import pytest

import players.llama_server as managed
from arena.records import SamplingParams, Variant
from players.base import Request
from players.local import create, default_gguf
from players.served_model import amx, file_type, served_gguf, unbatched_types

pytest.importorskip("llama_cpp")
Q4_1, Q8_0, Q5_1 = 3, 7, 9  # llama.h's llama_ftype values


@pytest.fixture(scope="module")
def q5_1(tmp_path_factory):
    """The embedded model requantized to Q5_1, a type no build of ggml batches (llama-quantize's way)."""
    import llama_cpp
    out = tmp_path_factory.mktemp("q5_1") / "smol-q5_1.gguf"
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.allow_requantize, params.nthread = Q5_1, True, 2
    assert llama_cpp.llama_model_quantize(str(default_gguf()).encode(), str(out).encode(), ctypes.byref(params)) == 0
    return out


def test_an_unbatched_type_is_re_encoded_once_and_a_batched_type_is_served_as_it_is(tmp_path, monkeypatch, q5_1):
    monkeypatch.setenv("ARENA_SERVED_MODELS", str(tmp_path))
    assert file_type(q5_1) == Q5_1 and Q5_1 in unbatched_types()
    served = served_gguf(q5_1, threads=2)
    assert served.parent == tmp_path and file_type(served) == Q8_0
    assert [p.name for p in tmp_path.iterdir()] == [served.name]  # no partial file left behind
    written = served.stat().st_mtime_ns
    assert served_gguf(q5_1, threads=2) == served and served.stat().st_mtime_ns == written
    assert served_gguf(served, threads=2) == served.resolve()  # already batched: decoded as it is


def test_the_embedded_model_is_re_encoded_only_where_ggml_has_no_batched_q4_1_kernel(tmp_path, monkeypatch):
    """With AMX (the README's clang build on a CPU with it) ggml batches Q4_1 itself, faster than
    its re-encoding (docs/benchmarks.md); without, the Q8_0 re-encoding is what batches."""
    monkeypatch.setenv("ARENA_SERVED_MODELS", str(tmp_path))
    assert file_type(default_gguf()) == Q4_1
    served = served_gguf(default_gguf(), threads=2)
    if amx():
        assert Q4_1 not in unbatched_types() and served == default_gguf().resolve()
    else:
        assert Q4_1 in unbatched_types() and served.parent == tmp_path and file_type(served) == Q8_0


def test_a_changed_model_file_gets_a_new_re_encoding(tmp_path, monkeypatch, q5_1):
    monkeypatch.setenv("ARENA_SERVED_MODELS", str(tmp_path / "served"))
    model = tmp_path / "model.gguf"
    model.write_bytes(q5_1.read_bytes())
    first = served_gguf(model, threads=2)
    model.write_bytes(q5_1.read_bytes())  # the same name, written again: another file
    assert served_gguf(model, threads=2) != first


@pytest.mark.skipif(not managed.available(), reason="llama-server is not built (scripts/build-llama-server.sh)")
def test_the_server_decodes_the_re_encoding_and_answers(tmp_path, monkeypatch, q5_1):
    monkeypatch.setenv("ARENA_SERVED_MODELS", str(tmp_path))
    done, loaded = _serve_once(parallel=3, model=f"local/{q5_1}")
    assert loaded.startswith(str(tmp_path)) and loaded.endswith(".q8_0.gguf")
    assert done.text.strip() and done.output_tokens > 0


def test_a_fine_tuned_child_with_its_bases_q4_1_tensors_is_re_encoded(tmp_path, monkeypatch):
    """A child's changed tensors are Q8_0; without AMX the base's Q4_1 ones it copied still have no
    batched kernel, so it is re-encoded too, whatever its file type says."""
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
    if amx():  # every tensor type it holds is batched
        assert served == child.resolve()
    else:
        assert served != child.resolve() and served.parent == tmp_path / "served"


@pytest.mark.skipif(not managed.available(), reason="llama-server is not built (scripts/build-llama-server.sh)")
def test_a_cache_that_cannot_be_written_leaves_the_model_as_it_is(tmp_path, monkeypatch, q5_1):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("ARENA_SERVED_MODELS", str(blocked))
    done, loaded = _serve_once(parallel=5, model=f"local/{q5_1}")
    assert loaded == str(q5_1.resolve()) and done.output_tokens > 0


def _serve_once(parallel: int, model: str = "local/smollm2-135m"):
    """One call through a served backend; its answer and the file its server loaded. `parallel`
    gives each test a server of its own, not one an earlier test left running on another cache."""
    async def go():
        params = SamplingParams(temperature=0.0, max_tokens=8)
        backend = create(Variant("smol", model, params, options={"server": "on", "parallel": parallel}))
        done = await backend.complete(Request([{"role": "user", "content": "Say hi."}], params))
        args = list(backend.server.proc.args)
        await backend.aclose()
        return done, args[args.index("-m") + 1]

    return asyncio.run(go())
