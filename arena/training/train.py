"""`arena train`: DPO fine-tuning of a local GGUF variant on exported preference pairs.

The embedded model exists only as a quantized GGUF, and nothing may be downloaded, so:
transformers loads the GGUF (dequantizing it to torch weights), TRL's DPOTrainer trains a
PEFT LoRA on the pairs (CPU here, a GPU when there is one), the LoRA is merged, and the
merged weights are written back to a GGUF (arena/training/gguf.py) that llama.cpp serves at
full speed. The result is registered as a new variant: DIR/variant.toml holds its
[[variants]] entry (model = "local/<path to the .gguf>").

Needs the training extras; install torch first so pip takes the CPU build:
    pip install torch==2.13.0 && pip install -e '.[train]'
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from arena.errors import UserError
from arena.records import Variant

INSTALL_HINT = "pip install torch==2.13.0 && pip install 'arena[train]' (torch first, so pip takes the CPU build)"
TRAIN_MODULES = ("torch", "transformers", "trl", "peft", "datasets", "gguf")
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ANCHOR = "anchor"  # the family of the loop's anchor pairs (arena/training/guard.py)


@dataclass
class TrainOptions:
    pairs: Path
    base: Variant
    out: Path
    name: str | None = None  # the new variant's name; default "<base>-dpo"
    max_pairs: int | None = 48  # a few dozen pairs keep one CPU run to minutes
    epochs: float = 1.0
    max_steps: int = -1  # > 0 stops early (tests)
    max_length: int = 512
    batch_size: int = 2
    grad_accum: int = 2
    learning_rate: float = 2e-4
    beta: float = 0.1
    lora_r: int = 16
    lora_alpha: int = 32
    gguf_type: str = "q8_0"  # how the LoRA-changed tensors are written (gguf.CHANGED_TYPES)
    seed: int = 0
    check_pairs: int = 8  # pairs whose llama.cpp log-prob margin is measured before/after
    progress: bool = True
    # Weight of an NLL term on the chosen answer beside the DPO loss (RPO, Pang et al. 2024; TRL's
    # rpo_alpha, in TRL 1.x loss_type ["sigmoid", "sft"]): keeps chosen texts likely, a guard
    # against the drift that makes a small model forget. 0: plain DPO.
    rpo_alpha: float = 0.0
    # The control arm: swap chosen and rejected in exactly half the pairs (drawn with this seed),
    # anchor pairs excepted, so a lift can be told from the effect of training at all.
    shuffle_seed: int | None = None


@dataclass
class TrainResult:
    variant: Variant
    gguf: Path
    toml: Path
    pairs_used: int
    steps: int
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    margin_before: float | None = None  # mean llama.cpp log p(chosen) - log p(rejected), base model
    margin_after: float | None = None  # the same with the new GGUF
    sample: str = ""
    tokens_per_s: float = 0.0
    changed_tensors: int = 0
    checked: int = 0  # pairs behind margin_before / margin_after
    anchors: int = 0  # anchor pairs among pairs_used (never subsampled, never swapped)
    swapped: int = 0  # pairs whose chosen and rejected the control swapped

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["variant"] = self.variant.describe()
        d["gguf"], d["toml"] = str(self.gguf), str(self.toml)
        return d


def require_extras() -> None:
    """Fail early, in one line, before minutes of work (a cheap lookup, not an import)."""
    import importlib.util
    missing = [mod for mod in TRAIN_MODULES if importlib.util.find_spec(mod) is None]
    if missing:
        raise UserError(f"training needs {', '.join(missing)}: {INSTALL_HINT}")


def base_gguf(variant: Variant) -> Path:
    """The GGUF file behind a local variant."""
    if variant.provider != "local":
        raise UserError(f"arena train fine-tunes local GGUF models; variant {variant.name!r} is {variant.model!r}")
    if variant.adapter:
        raise UserError(f"variant {variant.name!r} uses an adapter; train from the merged GGUF instead")
    from players.local import model_path
    try:
        return model_path(variant)
    except Exception as exc:  # noqa: BLE001 - missing file or package, one line
        raise UserError(str(exc)) from None


def load_tokenizer(path: Path) -> Any:
    from transformers import AutoTokenizer
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything comes from the GGUF on disk
    return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)


def load_model(path: Path) -> Any:
    """transformers dequantizes the GGUF to float32 torch weights."""
    import torch
    from transformers import AutoModelForCausalLM
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    # The weights are plain dequantized tensors now; the GGUF "quantizer" left on the model only
    # makes the Trainer refuse to train it.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model


def load_pairs(path: Path, system: str | None, max_pairs: int | None, seed: int) -> list[dict[str, Any]]:
    """prompt/chosen/rejected rows (metadata dropped), the base variant's system prompt in front
    so the model learns in the context it plays in."""
    if not path.is_file():
        raise UserError(f"pairs file not found: {path}")
    rows: list[dict[str, Any]] = []
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq
        raw = pq.read_table(path).to_pylist()
    else:
        raw = []
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    raw.append(json.loads(line))
                except json.JSONDecodeError:
                    raise UserError(f"{path}:{no}: not valid JSON") from None
    for no, r in enumerate(raw, 1):
        ok = isinstance(r, dict) and all(isinstance(r.get(k), list) and r[k] for k in ("prompt", "chosen", "rejected"))
        if not ok:
            raise UserError(f"{path}: row {no} is not a conversational DPO pair "
                            f"(prompt/chosen/rejected message lists); "
                            f"write pairs with `arena export dpo`")
        prompt = [{"role": m["role"], "content": m["content"]} for m in r["prompt"]]
        if system and prompt[0]["role"] != "system":
            prompt = [{"role": "system", "content": system}, *prompt]
        row = {"prompt": prompt,
               "chosen": [{"role": m["role"], "content": m["content"]} for m in r["chosen"]],
               "rejected": [{"role": m["role"], "content": m["content"]} for m in r["rejected"]]}
        if r.get("family") == ANCHOR:
            row[ANCHOR] = True
        rows.append(row)
    if not rows:
        raise UserError(f"{path} holds no pairs")
    # Anchor pairs (the forgetting guard) are all kept: subsampling them away would drop the guard.
    anchors = [r for r in rows if r.get(ANCHOR)]
    rows = [r for r in rows if not r.get(ANCHOR)]
    if max_pairs and len(rows) > max_pairs:
        rows = random.Random(seed).sample(rows, max_pairs)
    return rows + anchors


def swap_half(rows: list[dict[str, Any]], seed: int) -> tuple[list[dict[str, Any]], int]:
    """The control arm's pairs: chosen and rejected swapped in exactly half (rounded down) of the
    non-anchor pairs, drawn with `seed`; everything else as it was."""
    eligible = [i for i, r in enumerate(rows) if not r.get(ANCHOR)]
    flip = set(random.Random(seed).sample(eligible, len(eligible) // 2))
    out = [{**r, "chosen": r["rejected"], "rejected": r["chosen"]} if i in flip else r for i, r in enumerate(rows)]
    return out, len(flip)


def margins(gguf_path: Path, tok: Any, rows: list[dict[str, Any]]) -> float:
    """Mean llama.cpp log p(chosen) - log p(rejected): did the preference reach the GGUF?"""
    from players.local import on_llama_thread
    return on_llama_thread(_margins, gguf_path, tok, rows)


def _margins(gguf_path: Path, tok: Any, rows: list[dict[str, Any]]) -> float:
    from llama_cpp import Llama

    from arena.training.gguf import completion_logprob
    llm = Llama(model_path=str(gguf_path), n_ctx=2048, logits_all=True, verbose=False)
    try:
        total = 0.0
        for r in rows:
            prompt = tok.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
            good = tok.apply_chat_template(r["prompt"] + r["chosen"], tokenize=False)
            bad = tok.apply_chat_template(r["prompt"] + r["rejected"], tokenize=False)
            total += completion_logprob(llm, prompt, good) - completion_logprob(llm, prompt, bad)
        return total / len(rows)
    finally:
        llm.close()


def variant_toml(v: Variant) -> str:
    lines = ["# written by `arena train`: add this entry to a tournament config", "[[variants]]",
             f"name = {json.dumps(v.name)}", f"model = {json.dumps(v.model)}"]
    for key, value in v.params.to_dict().items():
        lines.append(f"{key} = {json.dumps(list(value) if isinstance(value, tuple) else value)}")
    if v.system is not None:
        lines.append(f"system = {json.dumps(v.system)}")
    return "\n".join(lines) + "\n"


def read_variant_toml(path: Path) -> Variant:
    """The variant an earlier `arena train` registered (so training can be chained)."""
    import tomllib

    from arena.config import parse_config
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a variant file ({exc})") from None
    entries = data.get("variants")
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        raise UserError(f"{path}: expected exactly one [[variants]] entry")
    name = entries[0].get("name")
    cfg = parse_config({"variants": entries, "tournament": {"players": [name, "random"]}}, str(path))
    return cfg.variants[name]


def no_checkpointing() -> dict[str, bool]:
    """DPOConfig kwargs turning off activation checkpointing, which trades speed for memory a
    135M model does not need (TRL turns it on; newer transformers renamed the flag)."""
    from trl import DPOConfig
    kwargs = {"gradient_checkpointing": False}
    if "activation_checkpointing" in {f.name for f in dataclasses.fields(DPOConfig)}:
        kwargs["activation_checkpointing"] = False
    return kwargs


def rpo(alpha: float) -> dict[str, Any]:
    """DPOConfig kwargs for an NLL term on chosen of weight alpha: TRL 0.x named it rpo_alpha,
    TRL 1.x combines loss types ("sft" is the mean NLL of the chosen tokens)."""
    if not alpha:
        return {}
    from trl import DPOConfig
    if "rpo_alpha" in {f.name for f in dataclasses.fields(DPOConfig)}:
        return {"rpo_alpha": alpha}
    return {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, alpha]}


def train(opts: TrainOptions, log: Callable[[str], None] = print) -> TrainResult:
    require_extras()
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl import DPOConfig, DPOTrainer

    from arena.training.gguf import CHANGED_TYPES, GGUFExportError, verify, write_merged_gguf

    if opts.gguf_type not in CHANGED_TYPES:
        raise UserError(f"--gguf-type must be one of {', '.join(CHANGED_TYPES)}, got {opts.gguf_type!r}")
    source = base_gguf(opts.base)
    name = opts.name or f"{opts.base.name}-dpo"
    rows = load_pairs(Path(opts.pairs), opts.base.system, opts.max_pairs, opts.seed)
    swapped = 0
    if opts.shuffle_seed is not None:
        rows, swapped = swap_half(rows, opts.shuffle_seed)
    anchors = sum(bool(r.get(ANCHOR)) for r in rows)
    rows = [{k: v for k, v in r.items() if k != ANCHOR} for r in rows]
    if opts.rpo_alpha < 0:
        raise UserError(f"--rpo-alpha must be >= 0, got {opts.rpo_alpha}")
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    torch.manual_seed(opts.seed)
    random.seed(opts.seed)
    log(f"training {name} from {opts.base.name} ({source.name}) on {len(rows)} pairs"
        + (f", {anchors} of them anchors" if anchors else "")
        + (f", chosen and rejected swapped in {swapped} (control)" if opts.shuffle_seed is not None else "")
        + (f", rpo_alpha {opts.rpo_alpha:g}" if opts.rpo_alpha else ""))
    tok = load_tokenizer(source)
    model = load_model(source)
    cuda = torch.cuda.is_available()
    args = DPOConfig(
        output_dir=str(out / "trainer"), per_device_train_batch_size=opts.batch_size,
        gradient_accumulation_steps=opts.grad_accum, num_train_epochs=opts.epochs, max_steps=opts.max_steps,
        learning_rate=opts.learning_rate, beta=opts.beta, max_length=opts.max_length, seed=opts.seed,
        bf16=cuda and torch.cuda.is_bf16_supported(), use_cpu=not cuda, **no_checkpointing(),
        logging_steps=1, save_strategy="no", report_to=[], disable_tqdm=not opts.progress,
        dataloader_num_workers=0, lr_scheduler_type="linear", warmup_steps=0, **rpo(opts.rpo_alpha))
    lora = LoraConfig(r=opts.lora_r, lora_alpha=opts.lora_alpha, lora_dropout=0.0, target_modules=list(LORA_TARGETS),
                      task_type="CAUSAL_LM")
    trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok,
                         peft_config=lora)
    if len(trainer.train_dataset) == 0:
        raise UserError(f"every pair's prompt is longer than --max-length {opts.max_length}")
    output = trainer.train()
    logs = [h for h in trainer.state.log_history if "loss" in h]
    metrics = {"train_loss": round(float(output.training_loss), 4)}
    if logs:
        for key in ("loss", "rewards/margins", "rewards/accuracies"):
            if key in logs[-1]:
                metrics[f"last_{key}"] = round(float(logs[-1][key]), 4)
    merged = trainer.model.merge_and_unload()
    gguf_path = out / f"{name}.gguf"
    try:
        report = write_merged_gguf(source, merged.state_dict(), gguf_path, changed_type=opts.gguf_type, name=name,
                                   description=f"arena DPO fine-tune of {opts.base.name} on {len(rows)} pairs")
    except GGUFExportError as exc:
        raise UserError(str(exc)) from None
    del trainer, merged, model
    shutil.rmtree(out / "trainer", ignore_errors=True)  # TRL's scratch directory; nothing is saved there
    sample, speed = verify(gguf_path)
    if not sample.strip():
        raise UserError(f"{gguf_path}: llama.cpp loaded the new model but it generated nothing")
    variant = Variant(name, f"local/{gguf_path.resolve()}", opts.base.params, opts.base.system)
    toml = out / "variant.toml"
    toml.write_text(variant_toml(variant), encoding="utf-8")
    result = TrainResult(variant, gguf_path, toml, len(rows), int(output.global_step), round(time.time() - started, 1),
                         metrics, sample=sample, tokens_per_s=round(speed, 1), changed_tensors=len(report.changed),
                         anchors=anchors, swapped=swapped)
    if opts.check_pairs:
        check = rows[: opts.check_pairs]
        result.checked = len(check)
        result.margin_before = round(margins(source, tok, check), 3)
        result.margin_after = round(margins(gguf_path, tok, check), 3)
    (out / "train.json").write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return result


def summary(r: TrainResult) -> str:
    lines = [f"trained {r.variant.name}: {r.pairs_used} pairs, {r.steps} steps, {r.seconds:.0f}s "
             f"(loss {r.metrics.get('train_loss')}, {r.changed_tensors} tensors changed"
             + (f", {r.anchors} anchor pairs" if r.anchors else "")
             + (f", {r.swapped} pairs swapped: control" if r.swapped else "") + ")",
             f"  gguf: {r.gguf} ({r.tokens_per_s:.0f} tokens/s in llama.cpp; sample: {r.sample[:60]!r})"]
    if r.margin_before is not None:
        lines.append(f"  llama.cpp log-prob margin chosen - rejected on {r.checked} training pairs: "
                     f"{r.margin_before:+.2f} (base) -> {r.margin_after:+.2f} (new)")
    lines.append(f"  registered in {r.toml}:")
    lines.append(r.toml.read_text(encoding="utf-8").rstrip())
    return "\n".join(lines)
