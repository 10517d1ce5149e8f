"""The LoRA trainer, run as `python -m desktop_registry.services.finetune.trainer CONFIG.json`.

The only module that imports torch (inside `train`, never at import time); it speaks JSON lines
on stdout and must never download weights (the job sets HF_HUB_OFFLINE=1) nor write outside
its run folder.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CHECKPOINTS = "checkpoints"
ADAPTER = "adapter"
STATE_FILE = "trainer_state.pt"
KEEP_CHECKPOINTS = 2
IGNORE = -100  # label value the loss skips (prompt and padding tokens)


@dataclass
class TrainConfig:
    """Everything one training run needs; written by the job as CONFIG.json in the run folder."""

    model_dir: str
    train_file: str  # jsonl TrainingExample rows (prompt/completion or messages), validated
    run_dir: str
    val_file: str = ""
    learning_rate: float = 2e-5
    batch_size: int = 2
    epochs: int = 2
    warmup_steps: int = 50
    max_steps: int = 0  # 0: epochs decide
    grad_accum: int = 1
    seed: int = 42
    lora_r: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    max_length: int = 256
    checkpoint_every: int = 10  # optimizer steps; 0: no checkpoints
    eval_every: int = 0  # 0: validation loss at checkpoints and at the end only
    resume: bool = True  # carry on from the newest checkpoint in run_dir, if there is one
    threads: int = 0  # torch intra-op threads; 0: torch's default

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    def steps_per_epoch(self, rows: int) -> int:
        return max(1, math.ceil(rows / (self.batch_size * self.grad_accum)))

    def total_steps(self, rows: int) -> int:
        return self.max_steps if self.max_steps > 0 else self.epochs * self.steps_per_epoch(rows)


Emit = Callable[[dict[str, Any]], None]


def emit_stdout(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def read_pairs(path: Path) -> list[tuple[list[dict[str, str]], str]]:
    """The prepared rows as (conversation before the answer, answer to learn)."""
    pairs = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            messages = row.get("messages")
            if messages:
                *before, last = [{"role": m["role"], "content": m["content"]} for m in messages]
                if last["role"] != "assistant":
                    before, last = [*before, last], {"role": "assistant", "content": ""}
                pairs.append((before, last["content"]))
            else:
                prompt = str(row.get("prompt") or "")
                turns = [{"role": "user", "content": prompt}] if prompt else []
                pairs.append((turns, str(row.get("completion") or "")))
    return pairs


def checkpoint_dirs(run_dir: Path) -> list[Path]:
    """Complete checkpoints (a state file written last), oldest first."""
    root = run_dir / CHECKPOINTS
    if not root.is_dir():
        return []
    found = [p for p in root.glob("step-*") if p.is_dir() and (p / STATE_FILE).is_file()]
    return sorted(found, key=lambda p: int(p.name.removeprefix("step-")))


def last_checkpoint_step(run_dir: Path) -> int:
    found = checkpoint_dirs(run_dir)
    return int(found[-1].name.removeprefix("step-")) if found else 0


class TrainingStopped(Exception):
    """A failure the user can act on; the message goes to the job as is."""


def train(config: TrainConfig, emit: Emit = emit_stdout) -> dict[str, Any]:
    """Run (or carry on) the LoRA fine-tune described by `config`; returns the final summary."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    emit({"phase": "preparing", "message": "loading the base model"})
    try:
        import peft
        import torch
        import transformers
    except ImportError as exc:
        raise TrainingStopped(
            f"Fine-tuning needs {exc.name}: pip install 'desktop-registry[finetune]'"
        ) from None
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    run_dir = Path(config.run_dir)
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(config.model_dir)
        model: Any = transformers.AutoModelForCausalLM.from_pretrained(
            config.model_dir, dtype=torch.float32
        )
    except (OSError, ValueError) as exc:
        raise TrainingStopped(
            f"The base model in {config.model_dir} cannot be loaded: {str(exc).splitlines()[0]}"
        ) from None
    try:
        model = peft.get_peft_model(
            model,
            peft.LoraConfig(
                r=config.lora_r,
                lora_alpha=config.lora_alpha,  # type: ignore[arg-type]  # a float works
                lora_dropout=config.lora_dropout,
                target_modules=list(config.target_modules),
                task_type="CAUSAL_LM",
            ),
        )
    except ValueError as exc:
        raise TrainingStopped(f"LoRA cannot be applied: {str(exc).splitlines()[0]}") from None
    train_rows = encode(tokenizer, read_pairs(Path(config.train_file)), config.max_length)
    if not train_rows:
        raise TrainingStopped("There are no training rows left after preparation.")
    val_rows = (
        encode(tokenizer, read_pairs(Path(config.val_file)), config.max_length)
        if config.val_file
        else []
    )
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    total = config.total_steps(len(train_rows))
    per_epoch = config.steps_per_epoch(len(train_rows))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate)
    schedules: Any = transformers
    scheduler = schedules.get_linear_schedule_with_warmup(
        optimizer, min(config.warmup_steps, max(0, total - 1)), total
    )
    step = 0
    if config.resume and checkpoint_dirs(run_dir):
        step = load_checkpoint(checkpoint_dirs(run_dir)[-1], model, optimizer, scheduler)
        emit({"phase": "training", "resumed_from": step, "total_steps": total})
    emit({"phase": "training", "total_steps": total, "rows": len(train_rows), "step": step})
    model.train()
    parent = os.getppid()
    loss_value = float("nan")
    val_loss: float | None = None
    while step < total:
        started = time.perf_counter()
        epoch = step // per_epoch
        order = epoch_order(len(train_rows), config.seed + epoch)
        first = (step % per_epoch) * config.batch_size * config.grad_accum
        losses: list[float] = []
        tokens = 0
        for micro in range(config.grad_accum):
            at = first + micro * config.batch_size
            indices = order[at : at + config.batch_size]
            if not indices:
                break
            batch = collate([train_rows[i] for i in indices], pad_id, torch)
            out = model(**batch)
            (out.loss / config.grad_accum).backward()
            losses.append(float(out.loss.detach()))
            tokens += int(batch["attention_mask"].sum())
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        loss_value = sum(losses) / len(losses)
        elapsed = time.perf_counter() - started
        event: dict[str, Any] = {
            "phase": "training",
            "step": step,
            "total_steps": total,
            "loss": loss_value,
            "lr": float(scheduler.get_last_lr()[0]),
            "epoch": round(step / per_epoch, 4),
            "tokens_per_s": tokens / elapsed if elapsed > 0 else 0.0,
        }
        at_checkpoint = config.checkpoint_every > 0 and step % config.checkpoint_every == 0
        wants_eval = (config.eval_every > 0 and step % config.eval_every == 0) or at_checkpoint
        if val_rows and wants_eval and step < total:
            val_loss = evaluate(model, val_rows, config.batch_size, pad_id, torch)
            event["val_loss"] = val_loss
        if at_checkpoint and step < total:
            save_checkpoint(run_dir, step, model, optimizer, scheduler, torch)
            event["checkpoint"] = step
        emit(event)
        if os.getppid() != parent:  # the app that started us is gone: stop, keep checkpoints
            raise TrainingStopped("The app that started this training stopped.")
    emit({"phase": "evaluating", "step": step})
    if val_rows:
        val_loss = evaluate(model, val_rows, config.batch_size, pad_id, torch)
    adapter_dir = run_dir / ADAPTER
    partial = run_dir / (ADAPTER + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(str(partial))
    shutil.rmtree(adapter_dir, ignore_errors=True)
    partial.rename(adapter_dir)
    summary: dict[str, Any] = {
        "phase": "done",
        "step": step,
        "total_steps": total,
        "final_loss": loss_value,
        "adapter_dir": str(adapter_dir),
    }
    if val_loss is not None:
        summary["val_loss"] = val_loss
    emit(summary)
    return summary


def encode(
    tokenizer: Any, pairs: Sequence[tuple[list[dict[str, str]], str]], max_length: int
) -> list[Any]:
    """Token ids and labels per row; only the answer's tokens are learned, not the prompt's."""
    template = getattr(tokenizer, "chat_template", None)
    end = tokenizer.eos_token or ""
    rows = []
    for turns, completion in pairs:
        if not turns:
            prefix = ""  # plain text: all of it is learned
        elif template:
            prefix = tokenizer.apply_chat_template(
                turns, tokenize=False, add_generation_prompt=True
            )
        else:
            prefix = "\n\n".join(t["content"] for t in turns) + "\n"
        prompt_ids = tokenizer(prefix, add_special_tokens=True)["input_ids"]
        answer_ids = tokenizer(completion + end, add_special_tokens=False)["input_ids"]
        ids = (list(prompt_ids) + list(answer_ids))[:max_length]
        labels = ([IGNORE] * len(prompt_ids) + list(answer_ids))[:max_length]
        if any(label != IGNORE for label in labels):
            rows.append((ids, labels))
    return rows


def collate(rows: Sequence[Any], pad_id: int, torch: Any) -> dict[str, Any]:
    width = max(len(ids) for ids, _ in rows)
    ids = [list(i) + [pad_id] * (width - len(i)) for i, _ in rows]
    labels = [list(lab) + [IGNORE] * (width - len(lab)) for _, lab in rows]
    mask = [[1] * len(i) + [0] * (width - len(i)) for i, _ in rows]
    return {
        "input_ids": torch.tensor(ids),
        "labels": torch.tensor(labels),
        "attention_mask": torch.tensor(mask),
    }


def epoch_order(rows: int, seed: int) -> list[int]:
    """The same shuffled order for an epoch on every attempt (so a resume sees the same data)."""
    order = list(range(rows))
    random.Random(seed).shuffle(order)
    return order


def batches(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for at in range(0, len(rows), size):
        yield rows[at : at + size]


def evaluate(model: Any, rows: Sequence[Any], batch_size: int, pad_id: int, torch: Any) -> float:
    model.eval()
    total = 0.0
    count = 0
    with torch.no_grad():
        for chunk in batches(rows, batch_size):
            out = model(**collate(chunk, pad_id, torch))
            total += float(out.loss) * len(chunk)
            count += len(chunk)
    model.train()
    return total / max(1, count)


def save_checkpoint(
    run_dir: Path, step: int, model: Any, optimizer: Any, scheduler: Any, torch: Any
) -> Path:
    """Adapter, optimizer, scheduler, RNG and step, written to a temporary folder then renamed."""
    root = run_dir / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step}"
    temporary = root / f".step-{step}.partial"
    shutil.rmtree(temporary, ignore_errors=True)
    model.save_pretrained(str(temporary))
    state = {
        "step": step,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "python_rng": random.getstate(),
    }
    torch.save(state, temporary / STATE_FILE)
    shutil.rmtree(final, ignore_errors=True)
    temporary.rename(final)
    for old in checkpoint_dirs(run_dir)[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(folder: Path, model: Any, optimizer: Any, scheduler: Any) -> int:
    import peft
    import torch
    from safetensors.torch import load_file

    weights = load_file(str(folder / "adapter_model.safetensors"))
    peft.set_peft_model_state_dict(model, weights)
    state = torch.load(folder / STATE_FILE, weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    random.setstate(state["python_rng"])
    return int(state["step"])


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python -m desktop_registry.services.finetune.trainer CONFIG\n")
        return 2
    try:
        train(TrainConfig.load(Path(args[0])))
    except TrainingStopped as exc:
        emit_stdout({"phase": "failed", "error": str(exc)})
        return 1
    except (OSError, ValueError, KeyError) as exc:
        emit_stdout({"phase": "failed", "error": f"{type(exc).__name__}: {exc}"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
