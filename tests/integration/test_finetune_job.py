"""The "finetune" job on real SQLite, a real trainer subprocess and the Ollama emulator: a
SIGKILLed trainer resumes from its last checkpoint, cancel stops it, a missing extra is a plain
message, and base models resolve from a folder or the Hugging Face cache without a download.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
from pathlib import Path

import psutil
import pytest

from desktop_registry import cli
from desktop_registry.app import build_context
from desktop_registry.config import Settings
from desktop_registry.domain.jobs import JobState
from desktop_registry.errors import UserInputError
from desktop_registry.services.finetune.base_models import BaseModels
from desktop_registry.services.finetune.run import read_metrics, run_folder
from desktop_registry.services.finetune.trainer import checkpoint_dirs
from tests.servers.ollama_emulator import OllamaEmulator, standard_models

FACTS = Path(__file__).resolve().parents[1] / "data" / "finetune" / "facts.jsonl"
QUICK = {  # small steps: the point here is the job's bookkeeping, not learning
    "learning_rate": 0.01,
    "batch_size": 2,
    "epochs": 20,
    "warmup_steps": 2,
    "max_steps": 24,
}


def needs_trainer() -> Path:
    for name in ("torch", "peft", "transformers", "gguf"):
        pytest.importorskip(name)
    from tests.engine.tiny_model import ensure_tiny_model

    try:
        return ensure_tiny_model().hf_dir
    except Exception as exc:  # no llama.cpp converter on this machine
        pytest.skip(f"the tiny model cannot be built here: {exc}")


@pytest.fixture
def emulator():
    with OllamaEmulator(standard_models()) as emu:
        yield emu


@pytest.fixture
def ctx(tmp_path, emulator, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    context = build_context(
        Settings(home=tmp_path / "home", ollama_url=emulator.url), db_path=tmp_path / "r.db"
    )

    async def sync() -> None:
        await context.ollama_sync().run()
        await context.aclose()

    asyncio.run(sync())
    yield context
    context.close()


def params(hf_dir: Path, **extra) -> dict:
    return {
        "base": "llama3.1:8b",
        "data": str(FACTS),
        "preset": "efficient",
        "name": "llama-facts",
        "hf_model": str(hf_dir),
        "settings": dict(QUICK),
        "checkpoint_every": 5,
        **extra,
    }


async def run_until(ctx, job_id: int, condition, then) -> tuple[object, list[dict]]:
    """Run (or resume) the job; call `then(detail)` once the first update meets `condition`."""
    seen: list[dict] = []
    fired = [False]

    def listen(update) -> None:
        if update.job_id != job_id or "step" not in update.detail:
            return
        if not seen or seen[-1].get("step") != update.detail["step"]:
            seen.append(dict(update.detail))
        if not fired[0] and condition(update.detail):
            fired[0] = True
            then(update.detail)

    unsubscribe = ctx.jobs().subscribe(listen)
    try:
        jobs = ctx.jobs()
        task = jobs.resume(job_id) if jobs.get(job_id).attempts else jobs.start(job_id)
        return await task, seen
    finally:
        unsubscribe()
        await ctx.aclose()


def test_a_sigkilled_trainer_resumes_from_its_last_checkpoint_and_finishes(ctx) -> None:
    hf_dir = needs_trainer()
    job = ctx.jobs().repository.create("finetune", params(hf_dir), "facts")
    killed: list[int] = []

    def kill(detail: dict) -> None:
        killed.append(detail["step"])
        os.kill(detail["trainer_pid"], signal.SIGKILL)

    first, _ = asyncio.run(run_until(ctx, job.id, lambda d: d.get("step", 0) >= 7, kill))
    assert killed and first.state is JobState.FAILED
    checkpoint = first.result["checkpoint"]
    assert 5 <= checkpoint <= killed[0] and checkpoint % 5 == 0
    assert f"carry on from checkpoint step {checkpoint}" in first.error

    second, seen = asyncio.run(run_until(ctx, job.id, lambda d: False, lambda d: None))
    assert second.state is JobState.SUCCEEDED, second.error
    steps = [d["step"] for d in seen if d.get("loss") is not None]
    assert steps[0] == checkpoint + 1  # not from zero
    assert steps[-1] == QUICK["max_steps"] and second.result["steps"] == QUICK["max_steps"]
    run_dir = run_folder(ctx.finetune_dir(), job.id)
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()
    assert Path(second.result["adapter"]).read_bytes()[:4] == b"GGUF"
    # The chart's history has each step once: what the killed attempt did past the checkpoint
    # was trained again, and its first metrics dropped.
    assert [row["step"] for row in read_metrics(run_dir)] == list(range(1, 25))
    assert any("Resumed training from the checkpoint" in line for line in second.log)
    deployed = ctx.models.find(second.result["model"])
    assert deployed.parent_id == ctx.models.find("llama3.1:8b").id


def test_cancel_stops_the_trainer_process_and_keeps_its_checkpoints(ctx) -> None:
    hf_dir = needs_trainer()
    job = ctx.jobs().repository.create("finetune", params(hf_dir, checkpoint_every=2), "facts")
    pids: list[int] = []

    def cancel(detail: dict) -> None:
        pids.append(detail["trainer_pid"])
        ctx.jobs().cancel(job.id)

    record, _ = asyncio.run(run_until(ctx, job.id, lambda d: d.get("step", 0) >= 3, cancel))
    assert record.state is JobState.CANCELLED
    assert not psutil.pid_exists(pids[0]) or psutil.Process(pids[0]).status() == "zombie"
    run_dir = run_folder(ctx.finetune_dir(), job.id)
    assert checkpoint_dirs(run_dir) and not (run_dir / "adapter").exists()
    assert ctx.jobs().can_resume(ctx.jobs().get(job.id))


def test_status_shows_the_phase_step_and_last_checkpoint_of_a_stopped_run(
    ctx, tmp_path, capsys
) -> None:
    hf_dir = needs_trainer()
    job = ctx.jobs().repository.create("finetune", params(hf_dir, checkpoint_every=2), "facts")
    asyncio.run(
        run_until(
            ctx,
            job.id,
            lambda d: d.get("step", 0) >= 3,
            lambda d: os.kill(d["trainer_pid"], signal.SIGKILL),
        )
    )
    code = cli.main(["--db", str(tmp_path / "r.db"), "finetune", "status", str(job.id), "--json"])
    body = json.loads(capsys.readouterr().out)
    assert code == 0
    assert body["state"] == "failed" and body["phase"] == "training"
    assert body["checkpoint"] >= 2 and body["step"] >= body["checkpoint"]
    assert body["total_steps"] == QUICK["max_steps"] and isinstance(body["loss"], float)
    code = cli.main(["--db", str(tmp_path / "r.db"), "finetune", "status", str(job.id)])
    text = capsys.readouterr().out
    assert f"last checkpoint: step {body['checkpoint']}" in text and "failed" in text


def test_without_torch_finetune_start_says_how_to_enable_the_extra(
    tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # as if the extra were not installed
    argv = ["--db", str(tmp_path / "r.db"), "finetune", "start", "--base", "llama3.1:8b"]
    code = cli.main([*argv, "--data", str(FACTS), "--name", "x"])
    err = capsys.readouterr().err
    assert code == 1
    assert "pip install 'desktop-registry[finetune]'" in err and "torch" in err
    assert "Traceback" not in err


def test_a_finetune_job_without_torch_fails_with_the_same_advice(ctx, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    job = ctx.jobs().repository.create("finetune", params(Path("/nowhere")), "facts")
    record = asyncio.run(ctx.jobs().run(job.id))
    assert record.state is JobState.FAILED
    assert "desktop-registry[finetune]" in record.error


def make_cached_snapshot(cache: Path, model_id: str, source: Path) -> Path:
    root = cache / ("models--" + model_id.replace("/", "--"))
    snapshot = root / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    shutil.copy(source / "config.json", snapshot / "config.json")
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text("abc123")
    return snapshot


def test_an_ollama_family_resolves_to_its_weights_in_the_hugging_face_cache(tmp_path) -> None:
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}')
    snapshot = make_cached_snapshot(tmp_path / "hub", "meta-llama/Llama-3.2-1B-Instruct", folder)
    models = BaseModels(tmp_path / "base_models.json", cache=tmp_path / "hub")
    assert models.resolve("llama3.2:1b") == snapshot
    assert models.resolve("llama3.2:1b", hf_model=str(folder)) == folder.resolve()
    with pytest.raises(UserInputError, match=r"huggingface-cli download Qwen/Qwen2\.5-0\.5B"):
        models.resolve("qwen2.5:0.5b")  # known, not cached: never downloaded
    with pytest.raises(UserInputError, match="No Hugging Face model is known for gemma3:27b"):
        models.resolve("gemma3:27b")
    models.set("gemma3:27b", str(folder))  # the user's choice wins from now on
    assert BaseModels(tmp_path / "base_models.json").resolve("gemma3:27b") == folder.resolve()


def test_a_broken_base_model_overrides_file_is_named_in_the_error(tmp_path) -> None:
    overrides = tmp_path / "base_models.json"
    overrides.write_text('{"llama3.2:1b": 5}')
    with pytest.raises(UserInputError, match="must map Ollama model names"):
        BaseModels(overrides).resolve("llama3.2:1b")
