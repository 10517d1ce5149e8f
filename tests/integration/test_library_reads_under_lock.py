"""Library reads while another process holds the registry's write lock (a sync in a second window)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.domain import ModelRecord, Serving, Source
from desktop_registry.domain.library import LibraryQuery
from desktop_registry.errors import StorageError
from desktop_registry.services.library import catalog as library_module
from desktop_registry.services.library.catalog import LibraryService
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.storage.library_index import LibraryIndex


@pytest.fixture
def db(registry_path: Path) -> Iterator[Database]:
    database = Database.open(registry_path)
    yield database
    database.dispose()


@pytest.fixture
def library(db: Database) -> LibraryService:
    return LibraryService(LibraryIndex(db), ModelRepository(db))


def _registry_changes(db: Database) -> None:
    """A model the index does not know yet, so the next refresh wants to write."""
    ModelRepository(db).register(
        ModelRecord(name="my-finetune:latest", source=Source.OLLAMA, serving=Serving.LOCAL)
    )


def _locked_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every index rebuild fails as it does past SQLite's busy timeout; returns the attempts."""
    attempts: list[int] = []

    def locked(self: LibraryIndex, *args: object, **kwargs: object) -> int:
        attempts.append(1)
        raise StorageError("The registry could not be written: database is locked")

    monkeypatch.setattr(LibraryIndex, "replace", locked)
    monkeypatch.setattr(library_module, "REBUILD_RETRY_DELAY_S", 0.0)
    return attempts


def test_siblings_are_read_while_another_process_holds_the_write_lock(
    library: LibraryService, db: Database, registry_path: Path
) -> None:
    entry = library.get("qwen2.5:7b")
    _registry_changes(db)
    other = sqlite3.connect(registry_path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock, as a running sync would
    try:
        started = time.monotonic()
        sizes = [e.name for e in library.siblings(entry)]
        elapsed = time.monotonic() - started
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert {"qwen2.5:0.5b", "qwen2.5:14b", "qwen2.5:72b"} <= set(sizes)
    assert "qwen2.5:7b" not in sizes and sizes.index("qwen2.5:0.5b") < sizes.index("qwen2.5:72b")
    assert elapsed < 2.0  # no wait on the lock: siblings never writes


def test_a_search_during_a_locked_rebuild_answers_from_the_last_index_and_says_so(
    library: LibraryService, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert library.search(LibraryQuery(text="qwen2.5"))
    _registry_changes(db)
    attempts = _locked_writes(monkeypatch)
    results = [r.entry.name for r in library.search(LibraryQuery(text="qwen2.5"))]
    assert "qwen2.5:7b" in results
    assert len(attempts) == 2  # SQLite's busy wait, then one more try
    assert library.stale_reason is not None and "out of date" in library.stale_reason
    monkeypatch.undo()
    library.search(LibraryQuery(text="qwen2.5"))
    assert library.stale_reason is None


def test_reads_before_the_first_index_fall_back_to_entries_built_in_memory(
    library: LibraryService, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _registry_changes(db)
    _locked_writes(monkeypatch)
    found = [r.entry.name for r in library.search(LibraryQuery(text="qwen2.5 coder"))]
    assert found and all("coder" in name for name in found)
    assert library.get("my-finetune:latest").name == "my-finetune:latest"  # from the registry
    assert library.get("qwen2.5:7b").name == "qwen2.5:7b"
    assert any(e.name == "my-finetune:latest" for e in library.entries())
    assert library.stale_reason is not None
