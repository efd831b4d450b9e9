"""Reference workload for the engine-overhead figures, run under the bench venv's Inspect AI.

    python -m bench.ref_inspect N M CONCURRENCY [BASE_URL]

N samples x M models, one generate() call each, a trivial scorer, Inspect's default eval log
written. Without BASE_URL the models are Inspect's zero-latency mocks (`mockllm/...`); with it,
Inspect's OpenAI-compatible provider (`openai-api/bench/model-<j>`, which reads BENCH_BASE_URL and
BENCH_API_KEY and needs the `openai` package) against that server over HTTP.
Prints {"seconds": wall time of eval(), ...}.

Inspect counts the mock's tokens with tiktoken's o200k_base, which tiktoken downloads on first
use; without network the counter is replaced by a length estimate (reported as "tokenizer").
"""
import json
import sys
import tempfile
import threading
import time


def _tiktoken_works(timeout_s: float = 15.0) -> bool:
    ok: list[bool] = []

    def probe() -> None:
        try:
            import tiktoken
            tiktoken.get_encoding("o200k_base").encode("probe")
            ok.append(True)
        except Exception:  # offline: the encoding file cannot be fetched
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout_s)
    return bool(ok)


def main() -> None:
    import os
    n, m, concurrency = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    base_url = sys.argv[4] if len(sys.argv) > 4 else ""
    if base_url:
        os.environ["BENCH_BASE_URL"], os.environ["BENCH_API_KEY"] = base_url, "not-needed"
        models = [f"openai-api/bench/model-{j}" for j in range(m)]
    else:
        models = [f"mockllm/model-{j}" for j in range(m)]
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model._model import ModelAPI
    from inspect_ai.scorer import Score, accuracy, scorer
    from inspect_ai.solver import generate

    tokenizer = "tiktoken o200k_base"
    if not _tiktoken_works():
        async def estimate(self, text: str) -> int:  # ~4 characters a token, Inspect's 10% margin
            return max(1, int(len(text) / 4 * 1.1))

        ModelAPI.count_text_tokens = estimate
        tokenizer = "length estimate (tiktoken's o200k_base cannot be downloaded offline)"

    @scorer(metrics=[accuracy()])
    def trivial():
        async def score(state, target):
            return Score(value=1 if state.output.completion else 0)
        return score

    prompts = [f"Write one sentence about the sea. (#{i})" for i in range(n)]
    task = Task(dataset=[Sample(input=p, target="x") for p in prompts], solver=generate(), scorer=trivial())
    with tempfile.TemporaryDirectory() as logs:
        started = time.perf_counter()
        results = eval(task, model=models, display="none", log_dir=logs,
                       max_connections=concurrency, max_samples=concurrency, max_tasks=m)
        seconds = time.perf_counter() - started
        samples = sum(r.results.total_samples if r.results else 0 for r in results)
        statuses = sorted({r.status for r in results})
    if statuses != ["success"] or samples != n * m:
        raise SystemExit(f"Inspect finished {samples} of {n * m} samples ({statuses})")
    print(json.dumps({"seconds": seconds, "calls": n * m, "samples": samples, "status": statuses,
                      "tokenizer": tokenizer}))


if __name__ == "__main__":
    main()
