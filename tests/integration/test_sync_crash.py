"""SIGKILL a real `desktop-registry-cli sync` subprocess mid-sync of 1,000 models.

The registry must open, hold no duplicates, be either wholly before or wholly after the
sync (one transaction), and equal the source after the next sync.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import pytest

from desktop_registry.services.sync.ollama import OllamaSync
from desktop_registry.sources.ollama import OllamaSource
from desktop_registry.storage import Database, ModelRepository
from tests.reliability.sigkill import (
    duplicate_models,
    integrity_ok,
    model_digests,
    source_state,
    start_cli,
    wait_for,
)
from tests.servers.ollama_emulator import OllamaEmulator, many_models

pytestmark = pytest.mark.slow


def start_sync(db: Path, url: str) -> subprocess.Popen[bytes]:
    return start_cli(["--db", str(db), "sync", "--ollama-url", url], stderr=subprocess.PIPE)


def registry_state(db_path: Path) -> dict[str, tuple[str, str]]:
    """name → (digest, status), read with plain sqlite3 so nothing of ours can hide damage."""
    assert integrity_ok(db_path)
    assert duplicate_models(db_path) == 0
    return model_digests(db_path)


def sync_in_process(db_path: Path, url: str) -> None:
    db = Database.open(db_path)

    async def run() -> None:
        async with OllamaSource(url) as source:
            report = await OllamaSync(source, ModelRepository(db)).run()
            assert report.errors == []

    asyncio.run(run())
    db.dispose()


def test_sigkill_during_the_show_calls_of_a_first_sync_leaves_an_empty_usable_registry(tmp_path):
    db_path = tmp_path / "registry.db"
    with OllamaEmulator(many_models(1000)) as emu:
        emu.latency_s = 0.003
        proc = start_sync(db_path, emu.url)
        wait_for(lambda: emu.count("/api/show") >= 400)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert registry_state(db_path) == {}
        emu.latency_s = 0.0
        sync_in_process(db_path, emu.url)
        assert registry_state(db_path) == source_state(emu)


def test_sigkill_around_the_write_of_a_second_sync_is_all_or_nothing(tmp_path):
    db_path = tmp_path / "registry.db"
    with OllamaEmulator(many_models(1000)) as emu:
        sync_in_process(db_path, emu.url)
        before = registry_state(db_path)
        assert before == source_state(emu)
        outcomes = set()
        # Kill at a spread of moments after the last /api/show: some land before the write
        # transaction, some inside it, some after the commit.
        for attempt, delay in enumerate((0.0, 0.01, 0.02, 0.04, 0.08, 0.3)):
            for i, model in enumerate(list(emu.models)[:300]):
                emu.set_digest(model.name, f"{attempt:02x}{i:062x}")
            after = source_state(emu)
            emu.reset_counts()
            proc = start_sync(db_path, emu.url)
            wait_for(lambda: emu.count("/api/show") >= 300)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            state = registry_state(db_path)
            assert state in (before, after), "a sync was half-written"
            outcomes.add("after" if state == after else "before")
            sync_in_process(db_path, emu.url)
            before = registry_state(db_path)
            assert before == after
        assert "before" in outcomes  # at least one kill landed before the commit
