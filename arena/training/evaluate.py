"""Paired held-out evaluation: did training change what a checkpoint can do on tasks it never saw?

The parent and each trained arm (the child, the shuffled-preference control) answer exactly the
same held-out tasks with exactly the same seeds, once greedily (temperature 0) and once sampled
(SAMPLED_TEMPERATURE, a fixed seed per task), so every difference is paired task by task:

- predict-output: held-out generated programs (generator.heldout_programs, a seed space and a
  content bucket disjoint from training); the truth is what the sandbox really prints; scored
  by the family's own reward (`similarity`) and by exact match;
- ordinary: the "heldout" split of the shipped ordinary questions (arena/training/ordinary.py
  states the rule), to see forgetting.

Per task, arm - parent is averaged over the two modes (the task is the unit: its greedy and
sampled answers are not independent), and the mean over tasks gets a seeded percentile
bootstrap 95% interval (scipy.stats.bootstrap). Calls go through the engine's gateway with a
response cache in the run directory, under a role that names the GGUF's content hash: a resumed
evaluation replays its answers, and a retrained checkpoint of the same name is asked afresh.
"""
from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.records import SamplingParams, Variant
from arena.training.ordinary import OrdinaryItem, split

PREDICT, ORDINARY = "predict-output", "ordinary"
METRICS = ((PREDICT, "similarity"), (PREDICT, "exact"), (ORDINARY, "correct"))
MODES = ("greedy", "sampled")
SAMPLED_TEMPERATURE = 0.7
PREDICT_TOKENS = 64
ORDINARY_TOKENS = 40
# One call at a time: llama.cpp's batched decoding does not promise batch invariance, and with 8
# at once the same model answered a task differently as parent and as child (the pairing would
# measure the batching; tests/arena/training/test_evaluate.py).
EVAL_CALLS = 1
DEFAULT_TASKS = 24  # per task set; see the README's measurement (about 2 x 2 x 48 calls per model)
RESAMPLES = 10_000
LEVEL = 0.95


@dataclass(frozen=True)
class Task:
    set: str
    id: str
    prompt: str
    max_tokens: int
    truth: str | None = None  # predict-output: the real output
    item: OrdinaryItem | None = None

    def score(self, text: str) -> dict[str, float]:
        if self.set == PREDICT:
            from tournaments.families.predict_output.family import extract_prediction
            from tournaments.families.predict_output.scoring import similarity
            s = similarity(extract_prediction(text), self.truth or "")
            return {"similarity": s, "exact": float(s == 1.0)}
        return {"correct": float(self.item is not None and self.item.correct(text))}


@dataclass(frozen=True)
class Interval:
    mean: float
    lo: float
    hi: float
    n: int

    @property
    def excludes_zero(self) -> bool:
        return self.lo > 0 or self.hi < 0

    def to_dict(self) -> dict[str, float]:
        return {"mean": round(self.mean, 4), "lo": round(self.lo, 4), "hi": round(self.hi, 4), "n": self.n}


def bootstrap(values: list[float], seed: int = 0, resamples: int = RESAMPLES, level: float = LEVEL) -> Interval:
    """The mean of `values` with a seeded percentile bootstrap interval."""
    import numpy as np
    from scipy.stats import bootstrap as sp_bootstrap
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return Interval(0.0, 0.0, 0.0, 0)
    if data.size == 1 or np.all(data == data[0]):  # no spread: the interval is the point
        return Interval(float(data[0]), float(data[0]), float(data[0]), int(data.size))
    res = sp_bootstrap((data,), np.mean, n_resamples=resamples, confidence_level=level, method="percentile",
                       rng=np.random.default_rng(seed))
    return Interval(float(data.mean()), float(res.confidence_interval.low), float(res.confidence_interval.high),
                    int(data.size))


# -- the held-out tasks ---------------------------------------------------------------------------------
def heldout_programs(n: int) -> list[tuple[str, str]]:
    """n held-out (question, code), spread round-robin over the generator's tiers."""
    from tournaments.families.predict_output.generator import TIERS
    from tournaments.families.predict_output.generator import (
        heldout_programs as generated,
    )
    per_tier = [generated(-(-n // len(TIERS)), tier) for tier in TIERS]
    out = [p for group in zip(*per_tier) for p in group]
    return out[:n]


async def predict_tasks(n: int) -> list[Task]:
    """Held-out programs with their real output (run twice in the sandbox, as the family does)."""
    from tournaments.families.predict_output.family import (
        check_program,
        prediction_prompt,
    )
    programs = await asyncio.gather(*(check_program(q, code, timeout_s=5.0, memory_mb=256, max_output=2000,
                                                    author=None) for q, code in heldout_programs(n)))
    return [Task(PREDICT, f"po-{hashlib.sha256(p.code.encode()).hexdigest()[:10]}", prediction_prompt(p),
                 PREDICT_TOKENS, truth=p.output) for p in programs]


def ordinary_tasks(n: int) -> list[Task]:
    return [Task(ORDINARY, item.id, item.prompt, ORDINARY_TOKENS, item=item) for item in split("heldout", n)]


# -- asking ------------------------------------------------------------------------------------------------
_FINGERPRINTS: dict[tuple[str, int, int], str] = {}


def fingerprint(variant: Variant) -> str:
    """A hash of the GGUF's bytes: the checkpoint's identity, whatever its file is called."""
    from players.local import model_path
    path = model_path(variant)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _FINGERPRINTS:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _FINGERPRINTS[key] = h.hexdigest()[:16]
    return _FINGERPRINTS[key]


def task_seed(task: Task) -> int:
    """The same for every model: parent and arms sample with the same seed on the same task."""
    return int(hashlib.sha256(f"eval|{task.set}|{task.id}".encode()).hexdigest()[:8], 16)


def eval_variant(name: str, v: Variant, mode: str) -> Variant:
    temperature = 0.0 if mode == "greedy" else SAMPLED_TEMPERATURE
    return Variant(name, v.model, SamplingParams(temperature=temperature, max_tokens=PREDICT_TOKENS),
                   v.system, v.adapter)


async def answer(models: dict[str, Variant], tasks: list[Task], cache_path: Path | None) -> dict[str, Any]:
    """answers[label][task id][mode] = {"text", **scores}; a gateway per model, calls cached."""
    from arena.engine.cache import ResponseCache
    from arena.engine.gateway import Gateway
    roles = {label: f"eval:{fingerprint(v)}" for label, v in models.items()}
    results = []
    # One model after the other, each through a gateway of its own, so its server has every core
    # (players.local.threads); an identical checkpoint replays from the cache.
    for label, v in models.items():
        variants = {f"{label}@{mode}": eval_variant(f"{label}@{mode}", v, mode) for mode in MODES}
        gw = Gateway(variants, calls_per_model=EVAL_CALLS, cache=ResponseCache(cache_path) if cache_path else None)
        try:
            async def one(task: Task, mode: str, label: str = label, gw: Gateway = gw) -> tuple[str, str, str, str, int]:
                got = await gw.ask(f"{label}@{mode}", roles[label], [{"role": "user", "content": task.prompt}],
                                   match_id=f"eval-{task.id}", seed=task_seed(task), max_tokens=task.max_tokens)
                return label, task.id, mode, got.text, got.output_tokens
            results += await asyncio.gather(*(one(t, m) for t in tasks for m in MODES))
        finally:
            await gw.aclose()
    by_id = {t.id: t for t in tasks}
    out: dict[str, Any] = {label: {} for label in models}
    for label, tid, mode, text, tokens in results:
        out[label].setdefault(tid, {})[mode] = {"text": text, "tokens": tokens, **by_id[tid].score(text)}
    return out


# -- comparing ----------------------------------------------------------------------------------------------
def paired(answers: dict[str, Any], tasks: list[Task], arm: str, base: str, seed: int = 0) -> dict[str, Any]:
    """arm - base per metric: both modes pooled per task, and each mode alone."""
    out: dict[str, Any] = {}
    for tset, metric in METRICS:
        ids = [t.id for t in tasks if t.set == tset]
        if not ids:
            continue

        def diff(tid: str, modes: tuple[str, ...], metric: str = metric) -> float:
            return sum(answers[arm][tid][m][metric] - answers[base][tid][m][metric] for m in modes) / len(modes)
        entry = bootstrap([diff(t, MODES) for t in ids], seed).to_dict()
        for m in MODES:
            entry[m] = bootstrap([diff(t, (m,)) for t in ids], seed).to_dict()
        out[f"{tset} {metric}"] = entry
    return out


def means(answers: dict[str, Any], tasks: list[Task], label: str) -> dict[str, float]:
    out = {}
    for tset, metric in METRICS:
        vals = [answers[label][t.id][m][metric] for t in tasks if t.set == tset for m in MODES]
        if vals:
            out[f"{tset} {metric}"] = round(sum(vals) / len(vals), 4)
    return out


def evaluate(parent: Variant, arms: dict[str, Variant], n_tasks: int = DEFAULT_TASKS, cache: Path | None = None,
             seed: int = 0, log: Callable[[str], None] = print) -> dict[str, Any]:
    """The paired comparison of each arm ("child", "control") with the parent, as JSON-ready data."""
    started = time.time()
    tasks = asyncio.run(predict_tasks(n_tasks)) + ordinary_tasks(n_tasks)
    models = {"parent": parent, **arms}
    log(f"== evaluation: {', '.join(f'{k} {v.name}' for k, v in models.items())} on {n_tasks} held-out programs "
        f"and {n_tasks} ordinary questions, greedy and sampled (T={SAMPLED_TEMPERATURE})")
    answers = asyncio.run(answer(models, tasks, cache))
    report: dict[str, Any] = {
        "tasks": {PREDICT: sum(t.set == PREDICT for t in tasks), ORDINARY: sum(t.set == ORDINARY for t in tasks)},
        "modes": {"greedy": 0.0, "sampled": SAMPLED_TEMPERATURE}, "seed": seed, "level": LEVEL,
        "models": {k: {"variant": v.name, "model": v.model, "means": means(answers, tasks, k)}
                   for k, v in models.items()},
        "diffs": {arm: paired(answers, tasks, arm, "parent", seed) for arm in arms},
    }
    if "child" in arms and "control" in arms:
        report["diffs"]["child-control"] = paired(answers, tasks, "child", "control", seed)
    report["findings"] = findings(report)
    report["seconds"] = round(time.time() - started, 1)
    report["answers"] = answers
    report["truths"] = {t.id: t.truth if t.set == PREDICT else list(t.item.answers) for t in tasks if t.truth or t.item}
    return report


def findings(report: dict[str, Any]) -> list[str]:
    """The plain sentences: regressions first, then whether the lift stands out from the control."""
    out = []
    child = report["diffs"].get("child", {})
    ordinary = child.get(f"{ORDINARY} correct")
    if ordinary and ordinary["hi"] < 0:
        out.append(f"REGRESSION: ordinary questions {100 * ordinary['mean']:+.1f} "
                   f"[{100 * ordinary['lo']:+.1f}, {100 * ordinary['hi']:+.1f}] points")
    lift = child.get(f"{PREDICT} similarity")
    if lift:
        vs = report["diffs"].get("child-control", {}).get(f"{PREDICT} similarity")
        if vs is None:
            out.append(f"predict-output lift {_fmt(lift)}: "
                       + ("its interval is above zero" if lift["lo"] > 0 else "not distinguishable from zero")
                       + " (no control arm: run with --control shuffled to tell it from training itself)")
        elif vs["lo"] > 0:
            out.append(f"predict-output: the child beats the shuffled control by {_fmt(vs)}: the lift is "
                       f"distinguishable from the control")
        else:
            out.append(f"predict-output: child - control {_fmt(vs)}: the lift is NOT distinguishable from the control")
    return out


def _fmt(d: dict[str, float], scale: float = 1.0) -> str:
    return f"{scale * d['mean']:+.3f} [{scale * d['lo']:+.3f}, {scale * d['hi']:+.3f}]"


def table(report: dict[str, Any]) -> list[str]:
    """One line per metric: each model's mean, then each arm - parent with its interval."""
    arms = list(report["diffs"])
    lines = [f"  {'metric':<28}" + "".join(f"{k:>10}" for k in report["models"])
             + "".join(f"{a + ' - parent' if a != 'child-control' else a:>28}" for a in arms)]
    for key in report["models"]["parent"]["means"]:
        row = f"  {key:<28}" + "".join(f"{m['means'].get(key, 0):>10.3f}" for m in report["models"].values())
        row += "".join(f"{_fmt(report['diffs'][a][key]):>28}" for a in arms if key in report["diffs"][a])
        lines.append(row)
    return lines + [f"  {line}" for line in report["findings"]]
