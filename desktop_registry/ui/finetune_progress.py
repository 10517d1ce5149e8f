"""What the Fine-tune panel says about a run in words: phase, step n of N, loss and ETA from a
job's progress detail, and a stopped run's loss history read back from its run folder.

Reads only what the finetune job wrote (status.json, metrics.jsonl); never changes a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop_registry.services.finetune.run import read_metrics, read_status, run_folder

Points = list[tuple[int, float]]


def eta_text(seconds: Any) -> str:
    if not isinstance(seconds, int | float) or seconds < 0:
        return ""
    seconds = round(seconds)
    if seconds < 90:
        return f"about {seconds} s left"
    minutes, _ = divmod(seconds, 60)
    if minutes < 90:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60:02d} min left"


def progress_text(detail: dict[str, Any]) -> str:
    """'training · step 12 of 40 · loss 3.2101 · about 30 s left' from a job's detail."""
    phase = str(detail.get("phase") or "")
    parts = [phase] if phase else []
    step, total = detail.get("step"), detail.get("total_steps")
    if isinstance(step, int) and isinstance(total, int) and total:
        parts.append(f"step {step} of {total}")
    if isinstance(detail.get("loss"), float):
        parts.append(f"loss {detail['loss']:.4f}")
    if phase == "training":
        eta = eta_text(detail.get("eta_s"))
        if eta:
            parts.append(eta)
    return " · ".join(parts)


def run_history(root: Path, job_id: int) -> tuple[Points, Points, dict[str, Any]]:
    """A run's train and validation loss by step so far, and its last status."""
    run_dir = run_folder(root, job_id)
    history = read_metrics(run_dir)
    train = [(int(r["step"]), float(r["loss"])) for r in history if "loss" in r]
    validation = [(int(r["step"]), float(r["val_loss"])) for r in history if "val_loss" in r]
    return train, validation, read_status(run_dir)
