"""End to end: the embedded model served by llama-cpp-python's own OpenAI-compatible
server (a real subprocess on a free port) plays chess against the same model run
in-process. Needs the server extras: uvicorn, fastapi, sse-starlette,
starlette-context, pydantic-settings. About 10-30 s on two cores (one 4-ply game).
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from arena.config import parse_config
from arena.engine.runner import run
from arena.engine.store import Store

pytest.importorskip("llama_cpp")
for extra in ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings"):
    pytest.importorskip(extra, reason="llama-cpp-python server extras are not installed")


def _gguf() -> Path:
    from players.local import default_gguf
    return default_gguf()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def llama_server(tmp_path):
    port = _free_port()
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf()), "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", "2048", "--n_threads", "1"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: "
                            + (tmp_path / "server.log").read_text(errors="replace")[-2000:])
            try:
                with urllib.request.urlopen(url + "/models", timeout=2) as resp:
                    if json.load(resp).get("data"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not answer /v1/models within 90 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_a_served_model_plays_the_embedded_model(llama_server, tmp_path):
    cfg = parse_config({
        "tournament": {"name": "served-vs-embedded", "players": ["served", "embedded"], "families": ["chess"],
                       "seed": 5, "calls_per_model": 1},
        "variants": [
            {"name": "served", "model": "openai-api/llamacpp/smollm2", "base_url": llama_server,
             "temperature": 0.2, "max_tokens": 8, "timeout": 120},
            {"name": "embedded", "model": "local/smollm2-135m", "temperature": 0.2, "max_tokens": 8},
        ],
        "families": {"chess": {"max_plies": 4}},
    })
    summary = run(cfg, tmp_path / "run", max_matches=1)
    assert summary.finished == 1 and summary.failed == 0

    store = Store(tmp_path / "run", create=False)
    rows = store.db.execute("SELECT variant, COUNT(*), SUM(output_tokens), SUM(error IS NOT NULL) FROM calls "
                            "GROUP BY variant").fetchall()
    cached = store.db.execute("SELECT COUNT(*) FROM response_cache").fetchone()[0]
    store.close()
    by_variant = {v: (n, tokens, errors) for v, n, tokens, errors in rows}
    assert set(by_variant) == {"served", "embedded"}
    for n, tokens, errors in by_variant.values():
        assert n >= 1 and tokens > 0 and errors == 0  # both models really answered
    assert cached >= by_variant["served"][0]  # served answers are in the response cache
