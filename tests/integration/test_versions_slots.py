"""Slots with versions: switch → rollback → switch, compatibility checks, the MLflow alias.

A real SQLite registry and a real MLflow store under tmp_path; the active-version invariant is
checked with plain sqlite3 so nothing of ours can hide a second (or missing) active row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.domain import ModelDetails, ModelRecord, Serving, Source
from desktop_registry.errors import UserInputError
from desktop_registry.services.versions.service import (
    CHAMPION,
    VersionService,
    slot_registered_name,
)
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.storage.slots import SlotRepository
from desktop_registry.tracking.mlflow import MlflowTracker, default_tracking_uri


def model(name: str, caps: list[str], dim: int | None = None) -> ModelRecord:
    return ModelRecord(
        name=name,
        source=Source.OLLAMA,
        serving=Serving.LOCAL,
        capabilities=caps,
        digest=f"{abs(hash(name)):064x}"[:64],
        details=ModelDetails(embedding_length=dim),
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    db = Database.open(tmp_path / "registry.db")
    repo = ModelRepository(db)
    for record in (
        model("nomic-embed-text:latest", ["embedding"], 768),
        model("mxbai-embed:latest", ["embedding"], 768),
        model("bge-large:latest", ["embedding"], 1024),
        model("llama3.1:8b", ["completion", "tools"]),
    ):
        repo.register(record)
    yield db
    db.dispose()


def service(db: Database, tracker: MlflowTracker | None = None) -> VersionService:
    return VersionService(ModelRepository(db), SlotRepository(db), tracker, actor="ana")


def active_rows(db: Database) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db.path)
    try:
        return conn.execute(
            "SELECT s.name, v.version FROM slot_versions v JOIN slots s ON s.id = v.slot_id "
            "WHERE v.active = 1"
        ).fetchall()
    finally:
        conn.close()


def test_switch_rollback_switch_keeps_one_active_version_a_history_and_the_mlflow_alias(
    db, tmp_path
):
    tracker = MlflowTracker(default_tracking_uri(tmp_path), artifact_root=tmp_path / "art")
    svc = service(db, tracker)
    svc.create_slot("text embedding", "embedding")
    first = svc.add_version("text embedding", "nomic-embed-text", "1.0.0", config={"dims": 768})
    svc.add_version("text embedding", "mxbai-embed", "1.1.0")
    svc.add_version("text embedding", "bge-large", "2.0.0")
    assert first.active and first.checkpoint_digest
    registered = slot_registered_name("text embedding")

    def check(expected: str) -> None:
        assert active_rows(db) == [("text embedding", expected)]
        active = svc.active("text embedding")
        assert tracker.alias_version(registered, CHAMPION) == active.mlflow_version

    check("1.0.0")
    svc.switch("text embedding", "1.1.0", reason="better recall")
    check("1.1.0")
    svc.rollback("text embedding", reason="latency regression", actor="ben")
    check("1.0.0")
    svc.switch("text embedding", "2.0.0", reason="bigger model", acknowledge_reindex=True)
    check("2.0.0")

    history = svc.history("text embedding")
    assert [(h.action, h.from_version, h.to_version) for h in history] == [
        ("slot_switch", "1.0.0", "1.1.0"),
        ("slot_rollback", "1.1.0", "1.0.0"),
        ("slot_switch", "1.0.0", "2.0.0"),
    ]
    assert [h.actor for h in history] == ["ana", "ben", "ana"]
    assert [h.reason for h in history] == ["better recall", "latency regression", "bigger model"]
    assert history[2].detail["reindex_acknowledged"] is True
    assert history[0].at <= history[1].at <= history[2].at


def test_a_switch_is_seen_at_once_by_another_connection_without_restart(db):
    writer = service(db)
    writer.create_slot("coding assistant", "completion")
    writer.add_version("coding assistant", "llama3.1:8b", "1.0.0")
    other_db = Database.open(db.path)  # another part of the app (or another process)
    reader = service(other_db)
    try:
        assert reader.active_model("coding assistant").name == "llama3.1:8b"
        ModelRepository(db).register(model("qwen2.5-coder:7b", ["completion"]))
        writer.add_version("coding assistant", "qwen2.5-coder:7b", "1.1.0")
        writer.switch("coding assistant", "1.1.0")
        assert reader.active_model("coding assistant").name == "qwen2.5-coder:7b"
    finally:
        other_db.dispose()


def test_embedding_slot_refuses_a_different_dimension_without_reindex_acknowledgement(db):
    svc = service(db)
    svc.create_slot("text embedding", "embedding")
    svc.add_version("text embedding", "nomic-embed-text", "1.0.0")
    svc.add_version("text embedding", "bge-large", "2.0.0")
    with pytest.raises(UserInputError, match=r"^reindex: .*1024.*768"):
        svc.switch("text embedding", "2.0.0")
    assert active_rows(db) == [("text embedding", "1.0.0")]
    assert svc.history("text embedding") == []


def test_a_version_must_have_the_slots_capability(db):
    svc = service(db)
    svc.create_slot("text embedding", "embedding")
    with pytest.raises(UserInputError, match=r"^model: llama3.1:8b does not have the 'embedding'"):
        svc.add_version("text embedding", "llama3.1:8b", "1.0.0")
    with pytest.raises(UserInputError, match=r"^version: "):
        svc.add_version("text embedding", "nomic-embed-text", "v1")
    with pytest.raises(UserInputError, match=r"^capability: "):
        svc.create_slot("captions", "captioning")


def test_rollback_without_a_switch_and_switch_to_the_active_version_are_refused(db):
    svc = service(db)
    svc.create_slot("text embedding", "embedding")
    svc.add_version("text embedding", "nomic-embed-text", "1.0.0")
    with pytest.raises(UserInputError, match="never been switched"):
        svc.rollback("text embedding")
    with pytest.raises(UserInputError, match="already active"):
        svc.switch("text embedding", "1.0.0")
    with pytest.raises(UserInputError, match=r"^version: .*no version 9.9.9"):
        svc.switch("text embedding", "9.9.9")


def test_the_database_itself_refuses_a_second_active_version(db):
    svc = service(db)
    svc.create_slot("text embedding", "embedding")
    svc.add_version("text embedding", "nomic-embed-text", "1.0.0")
    svc.add_version("text embedding", "mxbai-embed", "1.1.0")
    conn = sqlite3.connect(db.path)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE slot_versions SET active = 1")
    finally:
        conn.close()
    assert active_rows(db) == [("text embedding", "1.0.0")]
