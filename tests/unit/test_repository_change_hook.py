"""ModelRepository's `on_change` hook: once per committed write, never for reads or failed writes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.domain import ModelRecord, PerformanceMetric, Serving, Source
from desktop_registry.errors import NotFoundError, UserInputError
from desktop_registry.storage import Database, ModelRepository


class Calls:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def make(name: str, **kw: object) -> ModelRecord:
    return ModelRecord(
        name=name, source=Source.OLLAMA, serving=Serving.LOCAL, capabilities=["completion"], **kw
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "registry.db")
    yield database
    database.dispose()


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def repo(db: Database, calls: Calls) -> ModelRepository:
    return ModelRepository(db, on_change=calls)


def test_every_committed_write_calls_the_hook_once(repo: ModelRepository, calls: Calls) -> None:
    stored = repo.register(make("qwen3:8b"))
    assert calls.count == 1
    assert stored.id is not None

    repo.update(stored.id, description="a small model")
    assert calls.count == 2

    ids = repo.apply_sync(
        upserts=[make("phi:2.7b"), stored.model_copy(update={"digest": "abc"})],
        mark_missing=[stored.id],
        history=[(stored.id, "sync_updated", {"digest": "abc"})],
    )
    assert calls.count == 3
    assert set(ids) == {"phi:2.7b", "qwen3:8b"}

    assert repo.record_performance(stored.id, [PerformanceMetric(metric="tps", value=41.5)]) == 1
    assert calls.count == 4

    repo.add_history("note", model_id=stored.id, actor="test")
    assert calls.count == 5

    repo.set_serving_status(stored.id, loaded=True)
    assert calls.count == 6
    repo.set_serving_status(stored.id, loaded=False)
    assert calls.count == 7

    repo.clear_loaded()
    assert calls.count == 8

    repo.delete(ids["phi:2.7b"])
    assert calls.count == 9


def test_the_hook_runs_after_the_commit_so_other_readers_see_the_change(db: Database) -> None:
    reader = ModelRepository(db)
    seen: list[int] = []
    repo = ModelRepository(db, on_change=lambda: seen.append(reader.count()))

    stored = repo.register(make("qwen3:8b"))
    assert stored.id is not None
    repo.delete(stored.id)

    assert seen == [1, 0]


def test_reads_never_call_the_hook(repo: ModelRepository, calls: Calls) -> None:
    stored = repo.register(make("qwen3:8b"))
    assert stored.id is not None
    repo.record_performance(stored.id, [PerformanceMetric(metric="tps", value=41.5)])
    repo.set_serving_status(stored.id, loaded=True)
    before = calls.count

    assert repo.get(stored.id).name == "qwen3:8b"
    assert [r.name for r in repo.list()] == ["qwen3:8b"]
    assert [r.name for r in repo.list(text="qwen", limit=10)] == ["qwen3:8b"]
    assert repo.count() == 1
    assert repo.find("qwen3:8b") is not None
    assert repo.resolve("qwen3").id == stored.id
    assert repo.known_models("ollama")["qwen3:8b"].id == stored.id
    assert repo.category_counts() and repo.primary_category_counts()
    assert repo.duplicate_keys() == []
    assert [m.value for m in repo.performance(stored.id)] == [41.5]
    assert repo.history(model_id=stored.id) == []
    assert (repo.serving_status(stored.id) or {})["loaded"] is True

    assert calls.count == before


def test_failed_writes_do_not_call_the_hook(repo: ModelRepository, calls: Calls) -> None:
    stored = repo.register(make("qwen3:8b"))
    assert stored.id is not None
    repo.register(make("qwen3:8b-custom", parent_id=stored.id))
    before = calls.count

    with pytest.raises(UserInputError, match="already registered"):
        repo.register(make("qwen3:8b"))
    with pytest.raises(NotFoundError):
        repo.delete(9999)
    with pytest.raises(UserInputError, match="derive from this one"):
        repo.delete(stored.id)
    with pytest.raises(NotFoundError):
        repo.update(9999, description="nobody")
    with pytest.raises(UserInputError, match="Unknown model field"):
        repo.update(stored.id, colour="blue")
    with pytest.raises(NotFoundError):
        repo.resolve("no-such-model")

    assert calls.count == before
    assert repo.count() == 2


def test_a_write_with_nothing_to_write_does_not_call_the_hook(
    repo: ModelRepository, calls: Calls
) -> None:
    assert repo.record_performance(1, []) == 0
    assert calls.count == 0


def test_a_raising_hook_keeps_the_write_and_is_logged(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("subscriber blew up")

    repo = ModelRepository(db, on_change=broken)
    with caplog.at_level(logging.ERROR):
        stored = repo.register(make("qwen3:8b"))
        assert stored.id is not None
        repo.update(stored.id, description="still saved")
        repo.add_history("note", model_id=stored.id)

    # Another repository over the same file sees every write the hook failed after.
    reader = ModelRepository(db)
    assert reader.get(stored.id).description == "still saved"
    assert [h["action"] for h in reader.history(model_id=stored.id)] == ["note"]
    failures = [
        r for r in caplog.records if r.exc_info and "subscriber blew up" in str(r.exc_info[1])
    ]
    assert len(failures) == 3

    repo.delete(stored.id)
    assert reader.count() == 0


def test_a_repository_without_a_hook_writes_as_before(db: Database) -> None:
    repo = ModelRepository(db)
    stored = repo.register(make("qwen3:8b"))
    assert stored.id is not None
    repo.set_serving_status(stored.id, loaded=True)
    assert (repo.serving_status(stored.id) or {})["loaded"] is True
