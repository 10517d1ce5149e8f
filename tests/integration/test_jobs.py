"""Jobs on real SQLite against the Ollama emulator: a killed process leaves an interrupted job
that resumes where Ollama left the download; cancel and sync jobs keep honest records."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_registry.app import build_context
from desktop_registry.config import Settings
from desktop_registry.domain.jobs import JobState
from desktop_registry.storage import Database
from desktop_registry.storage.job_repository import JobRepository
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, standard_models

REPO_ROOT = Path(__file__).resolve().parents[2]
BIG = EmulatedModel(
    "gemma3:27b", family="gemma3", size=17_000_000_000, capabilities=["completion", "vision"]
)


@pytest.fixture
def emulator():
    with OllamaEmulator(standard_models(), library=[BIG]) as emu:
        emu.pull_chunk_bytes = 200_000_000  # ~85 progress lines for the weights layer
        yield emu


def context(tmp_path: Path, url: str):
    return build_context(
        Settings(home=tmp_path / "home", ollama_url=url), db_path=tmp_path / "r.db"
    )


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_killed_pull_job_shows_interrupted_and_resumes_the_partial_download(tmp_path, emulator):
    db_path = tmp_path / "r.db"
    Database.open(db_path).dispose()
    emulator.chunk_delay_s = 0.02
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "DESKTOP_REGISTRY_HOME": str(tmp_path / "home"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_registry.cli", "--db", str(db_path),
         "--ollama-url", emulator.url, "jobs", "pull", BIG.name],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    watcher = Database.open(db_path, upgrade=False)
    jobs = JobRepository(watcher)
    try:
        wait_for(lambda: any((j.progress or 0) > 0.2 for j in jobs.list()))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        watcher.dispose()
    (killed,) = JobRepository(Database.open(db_path)).list()
    assert killed.state is JobState.RUNNING  # nobody has looked yet: the row still says running

    emulator.chunk_delay_s = 0.0
    ctx = context(tmp_path, emulator.url)
    try:
        service = ctx.jobs()
        (interrupted,) = service.recover()
        assert interrupted.id == killed.id
        assert interrupted.state is JobState.INTERRUPTED
        assert service.can_resume(interrupted)

        async def resume():
            try:
                return await service.resume(killed.id)
            finally:
                await ctx.aclose()

        done = asyncio.run(resume())
        assert done.state is JobState.SUCCEEDED, done.log
        assert done.attempts == 2
        layers = done.result["pull"]["layers"]
        # Ollama kept the partial weights layer: the second attempt started part-way through it
        assert any(0 < layer["resumed_from"] < layer["total"] for layer in layers)
        assert any(line.startswith("Resumed: ") for line in done.log)
        assert ctx.models.find(BIG.name) is not None  # the pulled model is in the registry
    finally:
        ctx.close()


def test_cancelled_pull_job_is_recorded_and_can_be_resumed_to_the_end(tmp_path, emulator):
    ctx = context(tmp_path, emulator.url)
    emulator.chunk_delay_s = 0.01
    service = ctx.jobs()

    async def scenario():
        job = service.submit("pull", {"model": BIG.name}, f"Pull {BIG.name}")
        while (service.get(job.id).progress or 0) < 0.1:
            await asyncio.sleep(0.01)
        service.cancel(job.id)
        cancelled = await service.wait(job.id)
        emulator.chunk_delay_s = 0.0
        resumed = await service.resume(job.id)
        await ctx.aclose()
        return cancelled, resumed

    try:
        cancelled, resumed = asyncio.run(scenario())
    finally:
        ctx.close()
    assert cancelled.state is JobState.CANCELLED
    assert 0.1 <= (cancelled.progress or 0) < 1.0  # the progress it had reached is kept
    assert resumed.state is JobState.SUCCEEDED
    assert "Cancelled." in resumed.log


def test_sync_job_stores_the_report_and_a_failed_sync_says_why(tmp_path, emulator):
    ctx = context(tmp_path, emulator.url)
    service = ctx.jobs()

    async def scenario():
        ok = await service.run(service.repository.create("sync", {}, "Sync").id)
        emulator.stop()
        failed = await service.run(service.repository.create("pull", {"model": "x"}, "Pull x").id)
        await ctx.aclose()
        return ok, failed

    try:
        ok, failed = asyncio.run(scenario())
    finally:
        ctx.close()
    assert ok.state is JobState.SUCCEEDED
    assert len(ok.result["added"]) == 5
    assert failed.state is JobState.FAILED
    assert "Ollama is not running" in failed.error
    assert failed.log[-1].startswith("Failed: ")
