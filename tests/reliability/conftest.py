"""Fixtures for hostile-server tests: a registry synced from the emulator, and its rows to compare.

Every bad reply is served by a real emulator on a real socket; no test patches the client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_registry.cli import main as cli
from tests.servers.ollama_emulator import OllamaEmulator, RawReply, standard_models


def registry_rows(registry_path: Path) -> list[dict[str, Any]]:
    """Every row of the registry as `ModelRepository.list()` returns it (to compare before/after)."""
    from desktop_registry.storage import Database, ModelRepository

    db = Database.open(registry_path)
    try:
        return [r.model_dump(mode="json") for r in ModelRepository(db).list()]
    finally:
        db.dispose()


def raw_json(obj: Any) -> RawReply:
    """A 200 reply whose body is `obj` as JSON, whatever its shape."""
    return RawReply(json.dumps(obj).encode())


def deep_json(depth: int = 100_000) -> bytes:
    return b'{"models":' + b"[" * depth + b"]" * depth + b"}"


@pytest.fixture
def synced(registry_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OllamaEmulator]:
    """A registry that already holds the five standard models, and the emulator it came from."""
    monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_SYNC", "never")  # Ollama only
    with OllamaEmulator(standard_models()) as emu:
        assert cli(["--db", str(registry_path), "sync", "--ollama-url", emu.url]) == 0
        yield emu


def sync(registry_path: Path, emu: OllamaEmulator, capsys: pytest.CaptureFixture[str]) -> int:
    capsys.readouterr()
    return cli(["--db", str(registry_path), "sync", "--ollama-url", emu.url])
