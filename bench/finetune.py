"""The app's LoRA trainer subprocess vs a bare transformers+peft loop, interleaved, medians.

Same tiny model (tests/engine/tiny_model.py, built offline), same shipped facts, same settings
(batch 8, lr 1e-2, LoRA r=16 on every projection, AdamW, linear warmup/decay); the app's run
also writes its checkpoints every 10 steps (what a user gets). Each side prints one JSON line
per optimizer step; this script timestamps the lines it reads, so process start and model
loading are left out of both. Prints one JSON object as its last line:
{"steps", "steps_per_s", "bare_steps_per_s", "ratio", ...}. Target ratio >= 0.9.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FACTS = ROOT / "tests" / "data" / "finetune" / "facts.jsonl"
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SETTINGS = {
    "learning_rate": 1e-2,
    "batch_size": 8,
    "warmup_steps": 3,
    "lora_r": 16,
    "lora_alpha": 32,
    "lora_dropout": 0.05,
    "seed": 42,
    "max_length": 256,
}

BARE = r"""
import json, random, sys, torch, transformers, peft
model_dir, data, steps, s = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
torch.manual_seed(s["seed"])
tok = transformers.AutoTokenizer.from_pretrained(model_dir)
model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
model = peft.get_peft_model(model, peft.LoraConfig(r=s["lora_r"], lora_alpha=s["lora_alpha"],
    lora_dropout=s["lora_dropout"], target_modules=s["targets"], task_type="CAUSAL_LM"))
rows = []
for line in open(data, encoding="utf-8"):
    r = json.loads(line)
    p = tok.apply_chat_template([{"role": "user", "content": r["prompt"]}], tokenize=False,
                                add_generation_prompt=True)
    a = tok(p)["input_ids"]; b = tok(r["completion"] + tok.eos_token, add_special_tokens=False)["input_ids"]
    rows.append(((a + b)[: s["max_length"]], ([-100] * len(a) + b)[: s["max_length"]]))
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=s["learning_rate"])
sched = transformers.get_linear_schedule_with_warmup(opt, s["warmup_steps"], steps)
model.train()
order, at = [], 0
for step in range(1, steps + 1):
    if at + s["batch_size"] > len(order):
        order = list(range(len(rows))); random.shuffle(order); at = 0
    chunk = [rows[i] for i in order[at : at + s["batch_size"]]]; at += s["batch_size"]
    w = max(len(i) for i, _ in chunk)
    batch = {
        "input_ids": torch.tensor([i + [0] * (w - len(i)) for i, _ in chunk]),
        "labels": torch.tensor([l + [-100] * (w - len(l)) for _, l in chunk]),
        "attention_mask": torch.tensor([[1] * len(i) + [0] * (w - len(i)) for i, _ in chunk]),
    }
    loss = model(**batch).loss
    loss.backward(); opt.step(); sched.step(); opt.zero_grad(set_to_none=True)
    print(json.dumps({"step": step, "loss": float(loss)}), flush=True)
"""


def timed_steps(command: list[str]) -> tuple[float, int, float]:
    """Run `command`; steps/s between its first and last step line, steps, last loss."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT
    )
    assert proc.stdout is not None
    stamps: list[float] = []
    loss = float("nan")
    for line in proc.stdout:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if "loss" in event and "step" in event:
            stamps.append(time.perf_counter())
            loss = float(event["loss"])
    if proc.wait() != 0:
        raise SystemExit(f"{command[:3]} failed with {proc.returncode}")
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]), len(stamps), loss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from desktop_registry.services.finetune.trainer import TrainConfig
    from tests.engine.tiny_model import ensure_tiny_model

    model_dir = str(ensure_tiny_model().hf_dir)
    app_rates: list[float] = []
    bare_rates: list[float] = []
    losses: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            run_dir = Path(tmp) / f"app-{round_no}"
            run_dir.mkdir()
            config = TrainConfig(
                model_dir=model_dir,
                train_file=str(FACTS),
                run_dir=str(run_dir),
                max_steps=args.steps,
                target_modules=TARGETS,
                checkpoint_every=10,
                **SETTINGS,  # type: ignore[arg-type]
            )
            config.save(run_dir / "config.json")
            app = [sys.executable, "-m", "desktop_registry.services.finetune.trainer"]
            app.append(str(run_dir / "config.json"))
            bare_settings = json.dumps({**SETTINGS, "targets": TARGETS})
            bare = [sys.executable, "-c", BARE, model_dir, str(FACTS), str(args.steps)]
            bare.append(bare_settings)
            sides = [("app", app), ("bare", bare)]
            for name, command in sides if round_no % 2 == 0 else reversed(sides):
                rate, steps, loss = timed_steps(command)
                assert steps == args.steps, (name, steps)
                (app_rates if name == "app" else bare_rates).append(rate)
                losses[name] = loss
                print(f"round {round_no + 1} {name}: {rate:.2f} steps/s", file=sys.stderr)
    app_rate, bare_rate = statistics.median(app_rates), statistics.median(bare_rates)
    result = {
        "steps": args.steps,
        "rounds": args.rounds,
        "steps_per_s": round(app_rate, 3),
        "bare_steps_per_s": round(bare_rate, 3),
        "ratio": round(app_rate / bare_rate, 3),
        "app_runs": [round(r, 3) for r in app_rates],
        "bare_runs": [round(r, 3) for r in bare_rates],
        "last_loss": {k: round(v, 4) for k, v in losses.items()},
        "checkpoint_every": 10,
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
