"""A sync where some sources failed says which; it is never reported, or recorded, as a success.

The CLI prints "Synced X" only for sources that synced; the sync job ends `failed` when any
source failed, with a message naming what synced and what did not.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.app import build_context
from desktop_registry.cli import main as cli
from desktop_registry.config import Settings
from desktop_registry.domain.jobs import JobState
from tests.reliability.conftest import registry_rows
from tests.servers.github_models_emulator import GitHubModelsEmulator


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubModelsEmulator]:
    with GitHubModelsEmulator() as emu:
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", emu.url)
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_SYNC", "always")
        yield emu


def test_cli_never_prints_synced_for_a_source_that_failed(capsys, github, registry_path):
    url = dead_url()
    code = cli(["--db", str(registry_path), "sync", "--ollama-url", url])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err
    assert "ollama" not in out.splitlines()[0]  # "Synced github_models: 11 added …"
    assert out.startswith("Synced github_models: 11 added")
    assert "Failed: ollama" in out
    assert f"Ollama is not running at {url}" in err
    assert {r["source"] for r in registry_rows(registry_path)} == {"github_models"}


def test_cli_says_nothing_synced_when_every_source_failed(capsys, monkeypatch, registry_path):
    monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_SYNC", "never")
    monkeypatch.setenv("OLLAMA_HOST", dead_url())
    code = cli(["--db", str(registry_path), "sync"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Synced" not in out
    assert "Nothing synced. Failed: ollama" in out
    assert "Ollama is not running" in err
    assert registry_rows(registry_path) == []


def run_sync_job(tmp_path: Path, ollama_url: str, github_sync: str):
    ctx = build_context(
        Settings(home=tmp_path / "home", ollama_url=ollama_url, github_models_sync=github_sync),
        db_path=tmp_path / "r.db",
    )
    service = ctx.jobs()

    async def scenario():
        job = await service.run(service.repository.create("sync", {}, "Sync all sources").id)
        await ctx.aclose()
        return job

    try:
        return asyncio.run(scenario())
    finally:
        ctx.close()


def test_sync_job_fails_when_every_source_failed(tmp_path, monkeypatch):
    job = run_sync_job(tmp_path, dead_url(), "never")
    assert job.state is JobState.FAILED
    assert "ollama" in job.error and "Ollama is not running" in job.error
    assert job.progress != 1.0


def test_sync_job_that_partly_failed_does_not_end_succeeded_and_names_both_sides(tmp_path, github):
    job = run_sync_job(tmp_path, dead_url(), "always")
    assert job.state is JobState.FAILED  # not "succeeded": the status bar's "Last sync" stays
    assert "Synced github_models" in job.error and "failed: ollama" in job.error
    assert len(job.result["added"]) == 11  # what did sync is kept in the job's result
    assert job.result["failed"] == ["ollama"]
