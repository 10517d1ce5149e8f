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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Nothing may escape a reliability test unseen: an exception ignored in a finalizer or
    raised in a thread fails the test instead of becoming a warning."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(
                pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
            )
            item.add_marker(
                pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
            )


@pytest.fixture(autouse=True)
def no_unhandled_asyncio_errors() -> Iterator[None]:
    """An exception no task awaited (asyncio's "Task exception was never retrieved") fails the
    test that left it, through the loop's exception handler."""
    import asyncio

    seen: list[dict[str, Any]] = []
    policy = asyncio.get_event_loop_policy()
    original = policy.new_event_loop

    def new_event_loop() -> asyncio.AbstractEventLoop:
        loop = original()
        loop.set_exception_handler(lambda _loop, context: seen.append(context))
        return loop

    policy.new_event_loop = new_event_loop  # type: ignore[method-assign]
    try:
        yield
    finally:
        policy.new_event_loop = original  # type: ignore[method-assign]
    assert not seen, f"unhandled in the event loop: {[c.get('message') for c in seen]}"


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
