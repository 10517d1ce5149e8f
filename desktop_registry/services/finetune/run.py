"""The "finetune" job kind: validate the data, start the trainer subprocess, follow it, deploy.

Never trains in the app's process (the window must not stall) and never throws a run away: a
killed or cancelled job resumes from its last checkpoint, and a finished adapter is not retrained.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from desktop_registry.errors import RegistryError, UserInputError
from desktop_registry.services.finetune.base_models import BaseModels
from desktop_registry.services.finetune.deploy import Experiments, deploy_adapter
from desktop_registry.services.finetune.run_data import prepare_split, preset_settings
from desktop_registry.services.finetune.trainer import (
    ADAPTER,
    TrainConfig,
    last_checkpoint_step,
)
from desktop_registry.services.jobs.service import JobFailed, JobHandle, JobKind

TRAINER_MODULE = "desktop_registry.services.finetune.trainer"
PHASES = ("validating", "preparing", "training", "evaluating", "deploying")
TRAINER_EXTRA = "pip install 'desktop-registry[finetune]'"
CANCEL_MARK = "cancel-requested"
PID_FILE = "trainer.pid"
STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
TERMINATE_GRACE_S = 10.0


class MetricLog(Protocol):
    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int = 0) -> None: ...


def trainer_missing() -> str | None:
    """The message to show when the trainer's libraries are not installed, else None."""
    missing = [m for m in ("torch", "transformers", "peft") if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    return (
        f"Fine-tuning needs {', '.join(missing)}, which are not installed. Enable it with "
        f"{TRAINER_EXTRA} (about 1.2 GB; torch is the CPU build), then start the fine-tune again."
    )


def run_folder(root: Path, job_id: int) -> Path:
    return root / f"job-{job_id}"


def write_json(path: Path, data: Any) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(temporary, path)


def read_status(run_dir: Path) -> dict[str, Any]:
    """What the run last reported (phase, step, loss, …), for `finetune status` and the panel."""
    try:
        data = json.loads((run_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """Every training step's metrics so far, in step order (the loss chart, MLflow)."""
    path = run_dir / METRICS_FILE
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if isinstance(r, dict)]


def request_cancel(run_dir: Path) -> bool:
    """Stop the trainer of a run owned by another process; True if one was running."""
    (run_dir / CANCEL_MARK).write_text("1", encoding="utf-8")
    try:
        pid = int((run_dir / PID_FILE).read_text(encoding="utf-8"))
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return False
    return True


@dataclass
class RunFollower:
    """Turns the trainer's JSON lines into job progress, status.json and metrics.jsonl."""

    handle: JobHandle
    run_dir: Path
    status: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    _started: float = field(default_factory=time.monotonic)
    _first_step: int | None = None

    def phase(self, name: str, message: str = "") -> None:
        self.status["phase"] = name
        text = message or f"{name}…"
        self.handle.progress(self.handle.progress_value, text, phase=name)
        write_json(self.run_dir / STATUS_FILE, self.status)

    def event(self, event: Mapping[str, Any]) -> None:
        phase = str(event.get("phase", self.status.get("phase", "training")))
        if "error" in event:
            self.error = str(event["error"])
            return
        if "resumed_from" in event:
            resumed = int(event["resumed_from"])
            self._keep_metrics_upto(resumed)
            self.handle.log(f"Resumed training from the checkpoint at step {resumed}.")
        if phase == "done":
            self.summary = dict(event)
            write_json(self.run_dir / SUMMARY_FILE, self.summary)
            return
        self.status.update({k: v for k, v in event.items() if k != "message"})
        self.status["phase"] = phase
        step, total = int(self.status.get("step") or 0), int(self.status.get("total_steps") or 0)
        if "loss" in event:
            self._record_step(event, step, total)
        elif phase != "training":
            self.handle.progress(self.handle.progress_value, f"{phase}…", phase=phase)
        write_json(self.run_dir / STATUS_FILE, self.status)

    def _record_step(self, event: Mapping[str, Any], step: int, total: int) -> None:
        metrics = {k: event[k] for k in ("step", "loss", "lr", "epoch", "tokens_per_s")}
        if "val_loss" in event:
            metrics["val_loss"] = event["val_loss"]
            self.status["val_step"] = step  # which step the (kept) val_loss was measured at
        with (self.run_dir / METRICS_FILE).open("a", encoding="utf-8") as out:
            out.write(json.dumps(metrics) + "\n")
        if self._first_step is None:
            self._first_step, self._started = step, time.monotonic()
        done_here = step - self._first_step
        rate = done_here / (time.monotonic() - self._started) if done_here > 0 else 0.0
        eta = (total - step) / rate if rate > 0 else None
        self.status["eta_s"] = eta
        message = f"step {step}/{total} · loss {float(event['loss']):.4f}"
        if "val_loss" in event:
            message += f" · val {float(event['val_loss']):.4f}"
        if eta is not None:
            message += f" · ETA {eta:.0f} s"
        self.handle.progress(0.9 * step / total if total else None, message, **self.status)
        if "checkpoint" in event:
            self.handle.log(f"Checkpoint saved at step {step} ({message}).")

    def _keep_metrics_upto(self, step: int) -> None:
        kept = [r for r in read_metrics(self.run_dir) if int(r.get("step", 0)) <= step]
        text = "".join(json.dumps(r) + "\n" for r in kept)
        (self.run_dir / METRICS_FILE).write_text(text, encoding="utf-8")


async def run_trainer(config_path: Path, follower: RunFollower) -> None:
    """Run the trainer subprocess to its end; cancelling this coroutine terminates it."""
    run_dir = follower.run_dir
    (run_dir / CANCEL_MARK).unlink(missing_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    with (run_dir / "trainer.log").open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            TRAINER_MODULE,
            str(config_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env=env,
        )
    (run_dir / PID_FILE).write_text(str(process.pid), encoding="utf-8")
    follower.status["trainer_pid"] = process.pid
    assert process.stdout is not None
    try:
        async for raw in process.stdout:
            line = raw.decode("utf-8", "replace").strip()
            try:
                event = json.loads(line)
            except ValueError:
                if line:
                    follower.handle.log(line[:500])
                continue
            if isinstance(event, dict):
                follower.event(event)
        code = await process.wait()
    except asyncio.CancelledError:
        await _stop(process)
        raise
    finally:
        (run_dir / PID_FILE).unlink(missing_ok=True)
    if code == 0:
        return
    if (run_dir / CANCEL_MARK).exists():
        raise asyncio.CancelledError
    checkpoint = last_checkpoint_step(run_dir)
    step = follower.status.get("step", 0)
    if follower.error:
        reason = follower.error
    elif code < 0:
        reason = f"The trainer was stopped by signal {-code} at step {step}"
    else:
        reason = f"The trainer exited with code {code} at step {step} (see {run_dir}/trainer.log)"
    where = f"checkpoint step {checkpoint}" if checkpoint else "the start"
    raise JobFailed(
        f"{reason}. Resume the job to carry on from {where}.",
        result={"run_dir": str(run_dir), "step": step, "checkpoint": checkpoint},
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), TERMINATE_GRACE_S)
    except TimeoutError:
        process.kill()
        await process.wait()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def finetune_job_kind(
    work_root: Path,
    base_models: Callable[[], BaseModels],
    experiments: Callable[[], Experiments],
    metric_log: Callable[[], MetricLog | None] = lambda: None,
) -> JobKind:
    """A job that trains params["name"] from params["base"] on params["data"] and deploys it."""

    async def run(handle: JobHandle) -> dict[str, Any]:
        params = handle.params
        for key in ("base", "data", "name"):
            if not str(params.get(key) or "").strip():
                raise UserInputError(f"{key}: a fine-tune needs it.")
        run_dir = run_folder(work_root, handle.id)
        run_dir.mkdir(parents=True, exist_ok=True)
        follower = RunFollower(handle, run_dir, status=read_status(run_dir))
        data = Path(str(params["data"])).expanduser()

        follower.phase("validating", f"validating {data.name}")
        if not (run_dir / "train.jsonl").is_file():
            split = await asyncio.to_thread(prepare_split, data, run_dir, params)
            handle.log(f"Data: {split.train} training rows, {split.validation} validation rows.")

        follower.phase("preparing", "preparing the base model")
        missing = trainer_missing()
        if missing:
            raise UserInputError(missing)
        base = str(params["base"])
        model_dir = base_models().resolve(base, params.get("hf_model") or None)
        settings = preset_settings(str(params.get("preset") or "efficient"), params)
        config = TrainConfig(
            model_dir=str(model_dir),
            train_file=str(run_dir / "train.jsonl"),
            val_file=str(run_dir / "val.jsonl") if (run_dir / "val.jsonl").is_file() else "",
            run_dir=str(run_dir),
            **settings,
        )
        config.save(run_dir / "config.json")

        adapter_dir = run_dir / ADAPTER
        if not (adapter_dir / "adapter_model.safetensors").is_file():
            follower.phase("training", "starting the trainer")
            await run_trainer(run_dir / "config.json", follower)
        summary = follower.summary or _read_summary(run_dir)

        follower.phase("deploying", f"deploying {params['name']} to Ollama")
        metrics: dict[str, float] = {
            k: float(summary[k]) for k in ("final_loss", "val_loss") if k in summary
        }
        training: dict[str, float | int | str] = {
            k: (v if isinstance(v, int | float | str) else ",".join(map(str, v)))
            for k, v in settings.items()
        }
        training.update(
            preset=str(params.get("preset") or "efficient"),
            steps=int(summary.get("step", 0)),
            data_sha256=file_sha256(data) if data.is_file() else "",
            hf_model=str(model_dir),
        )
        record, converted = await deploy_adapter(
            experiments(),
            name=str(params["name"]),
            base=base,
            adapter_dir=adapter_dir,
            hf_model_dir=model_dir,
            dataset=str(data),
            training=training,
            metrics=metrics,
            job_id=str(handle.id),
        )
        tracking = record.parameters.get("mlflow") or {}
        history = read_metrics(run_dir)
        log = metric_log()
        if log is not None and tracking.get("run_id") and history:
            try:
                await asyncio.to_thread(_log_history, log, str(tracking["run_id"]), history)
            except RegistryError as exc:  # the model is deployed; say what MLflow lacks
                handle.log(f"The per-step metrics could not be logged to MLflow: {exc}")
        follower.phase("done", f"deployed {record.name}")
        return {
            "model": record.name,
            "model_id": record.id,
            "adapter": str(converted.path),
            "run_dir": str(run_dir),
            "steps": int(summary.get("step", 0)),
            **metrics,
            "mlflow_run_id": tracking.get("run_id", ""),
        }

    return JobKind("finetune", run, resumable=True)


def _read_summary(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((run_dir / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _log_history(log: MetricLog, run_id: str, history: list[dict[str, Any]]) -> None:
    for row in history:
        values = {k: float(v) for k, v in row.items() if k != "step"}
        log.log_metrics(run_id, values, step=int(row["step"]))
