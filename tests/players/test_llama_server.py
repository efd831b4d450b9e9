"""llama.cpp servers, real subprocesses on free ports.

First: the embedded model served by llama-cpp-python's own OpenAI-compatible server plays chess
against the `local/` backend (needs the server extras: uvicorn, fastapi, sse-starlette,
starlette-context, pydantic-settings; about 10-30 s on two cores, both seat orders of a 4-ply game).

Then: the `local/` backend's batched path, llama.cpp's `llama-server` managed by
players/llama_server.py (needs the binary: scripts/build-llama-server.sh).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import players.llama_server as managed
from arena.cli import main
from arena.config import parse_config
from arena.engine.gateway import CallFailed, Gateway, RetryPolicy
from arena.engine.runner import run
from arena.engine.store import Store
from arena.records import Constraint, SamplingParams, Variant
from players.base import TRANSIENT, BackendError, Request
from players.local import create

pytest.importorskip("llama_cpp")
SERVER_EXTRAS = ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")


def _gguf() -> Path:
    from players.local import default_gguf
    return default_gguf()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def llama_server(tmp_path):
    for extra in SERVER_EXTRAS:
        pytest.importorskip(extra, reason="llama-cpp-python server extras are not installed")
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
    # Both seat orders: whoever plays White is asked at least once, so each model answers even when
    # the other forfeits on its first move (a 135M model's move is not always legal).
    summary = run(cfg, tmp_path / "run", max_matches=2)
    assert summary.finished == 2 and summary.failed == 0

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


# --- the local/ backend through llama-server -------------------------------------------------------

needs_binary = pytest.mark.skipif(not managed.available(),
                                  reason=f"llama-server is not built at {managed.binary()} "
                                         "(scripts/build-llama-server.sh builds it)")
ASK = [{"role": "user", "content": "Name a colour."}]
STORY = [{"role": "user", "content": "Write a short story about a lighthouse keeper."}]


def _served(name: str = "smol", **params) -> Variant:
    return Variant(name, "local/smollm2-135m", SamplingParams(**{"temperature": 0.7, "max_tokens": 12, **params}),
                   options={"server": "on"})


def test_server_on_without_a_built_binary_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARENA_LLAMA_SERVER", str(tmp_path / "no-such-llama-server"))
    cfg = tmp_path / "c.toml"
    cfg.write_text('[tournament]\nname = "t"\nfamilies = ["connect-four"]\nplayers = ["a", "b"]\n'
                   '[[variants]]\nname = "a"\nmodel = "local/smollm2-135m"\nserver = "on"\n'
                   '[[variants]]\nname = "b"\nmodel = "mock/random"\n')
    code = main(["run", str(cfg), "--run-dir", str(tmp_path / "r"), "--display", "none"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err, err
    assert 'server = "on" needs llama-server' in err and "build-llama-server.sh" in err


def test_auto_without_a_binary_falls_back_to_the_in_process_model(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_LLAMA_SERVER", str(tmp_path / "no-such-llama-server"))
    backend = create(Variant("v", "local/smollm2-135m", SamplingParams(max_tokens=4)))
    assert not backend.served


@needs_binary
def test_without_parallel_the_server_has_a_slot_for_every_call_the_gateway_lets_through():
    variant = Variant("smol", "local/smollm2-135m", SamplingParams(max_tokens=4), options={"server": "on"})

    async def go():
        gw = Gateway({"smol": variant}, calls_per_model=3)
        await gw.ask("smol", "player", ASK, match_id="m", seed=1)
        slots = gw.backend("smol").server.parallel
        await gw.aclose()
        return slots

    assert asyncio.run(go()) == 3


@needs_binary
def test_models_of_one_tournament_divide_the_cores_between_their_servers(monkeypatch):
    # llama.cpp's threads spin while they wait: two servers each on every core ran a tournament of
    # two checkpoints 4x slower than one thread each (see players.local.threads)
    monkeypatch.delenv("ARENA_LLAMA_THREADS", raising=False)
    cores = os.cpu_count() or 2
    same_file = str(_gguf())  # another model string: counted as another model, as a child checkpoint is
    variants = {"base": Variant("base", "local/smollm2-135m", SamplingParams(max_tokens=2), options={"server": "on"}),
                "other": Variant("other", f"local/{same_file}", SamplingParams(max_tokens=2), options={"server": "on"}),
                "judge": Variant("judge", "local/smollm2-135m", SamplingParams(max_tokens=2, temperature=0.0),
                                 options={"server": "on"})}

    def threads_of(gw: Gateway, names: list[str]) -> list[int]:
        async def go():
            try:
                for n in names:
                    await gw.ask(n, "player", ASK, match_id="m", seed=1)
                return [int(gw.backend(n).server.proc.args[gw.backend(n).server.proc.args.index("-t") + 1])
                        for n in names]
            finally:
                await gw.aclose()
        return asyncio.run(go())

    assert threads_of(Gateway(variants), ["base", "other"]) == [max(1, cores // 2)] * 2
    # a variant that only changes sampling shares its model's server: one model, every core
    assert threads_of(Gateway(variants, in_play=frozenset({"base", "judge"})), ["base", "judge"]) == [cores] * 2
    monkeypatch.setenv("ARENA_LLAMA_THREADS", "1")  # an explicit share (a Ray replica's) wins
    assert threads_of(Gateway(variants, in_play=frozenset({"base"})), ["base"]) == [1]


@needs_binary
def test_served_generation_is_real_counted_and_seeded_like_in_process():
    async def go():
        served = create(_served())
        in_process = create(Variant("p", "local/smollm2-135m", served_params(), options={"server": "off"}))
        req = Request(ASK, served_params().replace(seed=42))
        a, b = await served.complete(req), await served.complete(req)
        here = await in_process.complete(req)
        proc = served.server.proc
        await served.aclose()
        return a, b, here, proc

    a, b, here, proc = asyncio.run(go())
    assert a.text.strip() and a.output_tokens > 0 and a.finish_reason in ("stop", "length")
    assert a.text == b.text  # same seed, same answer
    # The GGUF's own chat template on both paths: the model sees the same prompt tokens.
    assert a.input_tokens == here.input_tokens > 5
    assert proc.poll() is not None  # the last user closed: the server is gone


def served_params() -> SamplingParams:
    return SamplingParams(temperature=0.7, max_tokens=12)


@needs_binary
def test_constraints_and_logprobs_go_through_the_server():
    async def go():
        backend = create(_served(max_tokens=40))
        moves = ("e4", "d4", "Nf3")
        choice = await backend.complete(Request(ASK, backend_params(), constraint=Constraint(choices=moves)))
        # a bounded string, so the grammar closes the JSON however long a sampled colour list runs
        schema = Constraint.json_schema({"type": "object", "properties": {"colour": {"type": "string", "maxLength": 24}},
                                         "required": ["colour"]})
        # room for the JSON to close: a grammar shapes the answer but cannot end it early
        shaped = await backend.complete(Request(ASK, backend_params().replace(max_tokens=160), constraint=schema))
        probed = await backend.complete(Request(ASK, backend_params().replace(max_tokens=4), logprobs=3))
        await backend.aclose()
        return moves, choice, shaped, probed

    moves, choice, shaped, probed = asyncio.run(go())
    assert choice.text in moves and choice.constrained
    assert isinstance(json.loads(shaped.text)["colour"], str) and shaped.constrained
    assert probed.top_logprobs and len(probed.top_logprobs) == probed.output_tokens
    assert all(0 < len(alts) <= 3 and all(lp <= 0 for lp in alts.values()) for alts in probed.top_logprobs)


def backend_params() -> SamplingParams:
    return SamplingParams(temperature=0.7, max_tokens=40, seed=1)


@needs_binary
def test_eight_calls_decode_together_and_the_gateway_counts_them_running():
    import aiohttp
    variant = Variant("smol", "local/smollm2-135m", SamplingParams(temperature=0.7, max_tokens=48),
                      options={"server": "on", "parallel": 8})

    async def go():
        gw = Gateway({"smol": variant}, calls_per_model=10)
        await gw.ask("smol", "player", ASK, match_id="warm-up", seed=1)  # starts the server
        server = next(iter(managed._running))
        started = time.perf_counter()
        for i in range(2):
            await gw.ask("smol", "player", STORY, match_id="seq", seed=100 + i)
        sequential = (time.perf_counter() - started) / 2
        seen: list[tuple[int, int, int]] = []  # (running, queued) as the gateway counts them, slots busy
        key = next(iter(gw.stats))

        async def watch(session):
            while True:
                st = gw.stats[key]
                async with session.get(server.url + "/slots") as resp:
                    busy = sum(slot["is_processing"] for slot in await resp.json())
                seen.append((st.in_flight - st.queued, st.queued, busy))
                await asyncio.sleep(0.05)

        async with aiohttp.ClientSession() as session:
            watcher = asyncio.create_task(watch(session))
            started = time.perf_counter()
            got = await asyncio.gather(*(gw.ask("smol", "player", STORY, match_id="par", seed=200 + i)
                                         for i in range(10)))
            together = time.perf_counter() - started
            watcher.cancel()
        await gw.aclose()
        return sequential, together, got, seen

    sequential, together, got, seen = asyncio.run(go())
    assert all(c.text.strip() and c.output_tokens > 0 for c in got)
    assert max(running for running, _, _ in seen) == 8  # eight calls generating at once ...
    assert max(busy for _, _, busy in seen) == 8  # ... in eight of the server's slots
    assert max(queued for _, queued, _ in seen) == 2  # the other two shown waiting for a slot
    # Ten at once beat ten one after another (a loose bound: two shared cores are noisy).
    assert together < 10 * sequential, (together, sequential)


@needs_binary
def test_a_killed_server_is_a_transient_failure_and_the_next_call_starts_a_new_one():
    async def go():
        backend = create(_served())
        req = Request(ASK, served_params().replace(seed=7))
        first = await backend.complete(req)
        dead = backend.server.proc
        # A long generation in flight when the server dies.
        long = asyncio.create_task(backend.complete(Request(STORY, served_params().replace(max_tokens=4000))))
        await asyncio.sleep(0.5)
        os.kill(dead.pid, signal.SIGKILL)
        try:
            await long
            failure = None
        except BackendError as exc:
            failure = exc
        again = await backend.complete(req)
        fresh = backend.server.proc
        await backend.aclose()
        return first, failure, again, dead, fresh

    first, failure, again, dead, fresh = asyncio.run(go())
    assert failure is not None and failure.kind == TRANSIENT and "llama-server exited" in str(failure)
    assert fresh is not dead and again.text == first.text  # restarted, and the seed still replays
    assert fresh.poll() is not None


@needs_binary
def test_through_the_gateway_a_crash_mid_run_is_retried_not_a_failed_call():
    variant = Variant("smol", "local/smollm2-135m", SamplingParams(temperature=0.7, max_tokens=8),
                      options={"server": "on"})

    async def go():
        gw = Gateway({"smol": variant}, retry=RetryPolicy(max_attempts=3, base_delay_s=0.01))
        await gw.ask("smol", "player", ASK, match_id="m", seed=1)
        server = next(iter(managed._running))
        server.proc.kill()
        try:
            done = await gw.ask("smol", "player", ASK, match_id="m", seed=2)
        except CallFailed as exc:  # pragma: no cover - the assertion below says what went wrong
            done = exc
        await gw.aclose()
        return done

    done = asyncio.run(go())
    assert not isinstance(done, Exception) and done.text.strip()


@needs_binary
def test_a_server_that_cannot_start_says_why_in_its_own_words(tmp_path):
    bad = tmp_path / "adapter.gguf"
    bad.write_bytes(b"not an adapter" * 100)
    backend = create(Variant("v", "local/smollm2-135m", SamplingParams(max_tokens=4), adapter=str(bad),
                             options={"server": "on"}))

    async def go():
        try:
            await backend.complete(Request(ASK, SamplingParams(max_tokens=4)))
        except BackendError as exc:
            return exc
        finally:
            await backend.aclose()

    failure = asyncio.run(go())
    assert failure is not None and "llama-server exited" in str(failure) and "while starting" in str(failure)
    assert "lora" in str(failure).lower() or "adapter" in str(failure).lower(), str(failure)  # its log's last lines
