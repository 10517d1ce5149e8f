"""A 40 MB /api/show that arrives slowly or stalls: said as it is, never "Ollama is not running".

Real Ollama bodies are large (`tensors` is always included); a busy server sends them slowly.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from desktop_registry.services.sync.ollama import OllamaSync
from desktop_registry.sources.ollama import OllamaSource
from desktop_registry.storage import Database, ModelRepository
from tests.reliability.conftest import registry_rows
from tests.servers.ollama_emulator import OllamaEmulator, RawReply, standard_models

BIG = "llama3.1:8b"


def forty_megabytes_of_show(emu: OllamaEmulator) -> bytes:
    body = emu.show_json(BIG)
    tensor = body["tensors"][0]
    count = 40_000_000 // len(json.dumps(tensor))
    body["tensors"] = [dict(tensor, name=f"blk.{i}.attn_q.weight") for i in range(count)]
    return json.dumps(body).encode()


def run_sync(emu: OllamaEmulator, db_path: Path, *, timeout_s: float):
    db = Database.open(db_path)

    async def run():
        async with OllamaSource(emu.url, timeout_s=timeout_s) as source:
            return await OllamaSync(source, ModelRepository(db)).run()

    try:
        return asyncio.run(run())
    finally:
        db.dispose()


def test_a_big_show_body_that_stalls_is_reported_as_stalled_not_as_ollama_not_running(tmp_path):
    db_path = tmp_path / "registry.db"
    with OllamaEmulator(standard_models()) as emu:
        emu.raw_replies["/api/show"] = RawReply(
            forty_megabytes_of_show(emu),
            piece_bytes=1 << 20,
            stall_after_bytes=8 << 20,
            stall_s=2.0,
            models=frozenset({BIG}),
        )
        report = run_sync(emu, db_path, timeout_s=0.5)
    (error,) = report.errors
    assert error.model == BIG
    assert "not running" not in error.message
    assert "stalled" in error.message and "MB" in error.message  # what arrived, then nothing
    assert len(report.added) == 4  # the other models still synced
    assert BIG not in {r["name"] for r in registry_rows(db_path)}


def test_a_big_show_body_that_arrives_slowly_is_synced(tmp_path):
    db_path = tmp_path / "registry.db"
    with OllamaEmulator(standard_models()) as emu:
        emu.raw_replies["/api/show"] = RawReply(
            forty_megabytes_of_show(emu),
            piece_bytes=4 << 20,
            trickle_s=0.05,  # each piece well inside the read timeout; the whole body is not
            models=frozenset({BIG}),
        )
        report = run_sync(emu, db_path, timeout_s=0.3)
    assert report.errors == []
    assert BIG in report.added and len(report.added) == 5
