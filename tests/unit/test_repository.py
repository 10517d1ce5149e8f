from __future__ import annotations

import sqlite3

import pytest

from desktop_registry.domain import (
    Category,
    Kind,
    ModelDetails,
    ModelRecord,
    PerformanceMetric,
    Serving,
    Source,
)
from desktop_registry.errors import NotFoundError, UserInputError
from desktop_registry.storage import Database, ModelRepository


def make(name: str, caps: list[str] | None = None, **kw) -> ModelRecord:
    from desktop_registry.domain import categories_for_capabilities

    caps = caps if caps is not None else ["completion"]
    cats = categories_for_capabilities(caps)
    defaults = {
        "source": Source.OLLAMA,
        "serving": Serving.LOCAL,
        "capabilities": caps,
        "category": cats[0],
        "categories": cats,
        "details": ModelDetails(family=name.split(":")[0]),
    }
    defaults.update(kw)
    return ModelRecord(name=name, **defaults)


def test_registered_model_reads_back_with_every_field(repo):
    record = make(
        "qwen3:8b",
        ["completion", "tools", "thinking"],
        digest="abc",
        size_bytes=5_000_000_000,
        parameters={"temperature": 0.6},
        tags=["8.2B", "Q4_K_M"],
        description="qwen3 · 8.2B",
        details=ModelDetails(family="qwen3", context_length=40960, head_count_kv=8),
    )
    stored = repo.register(record)
    assert stored.id is not None
    again = repo.get(stored.id)
    assert again.model_dump(exclude={"id", "created_at", "updated_at"}) == record.model_dump(
        exclude={"id", "created_at", "updated_at"}
    )


def test_same_name_version_and_source_cannot_be_registered_twice(repo):
    repo.register(make("phi:2.7b"))
    with pytest.raises(UserInputError, match="already registered"):
        repo.register(make("phi:2.7b"))
    repo.register(make("phi:2.7b", version="v2"))
    assert repo.count() == 2


def test_list_filters_by_category_including_secondary_capabilities(repo):
    repo.register(make("qwen3:8b", ["completion", "tools", "thinking"]))
    repo.register(make("llama3.1:8b", ["completion", "tools"]))
    repo.register(make("nomic-embed-text:latest", ["embedding"]))
    names = lambda **f: sorted(r.name for r in repo.list(**f))  # noqa: E731
    assert names(category="function_calling") == ["llama3.1:8b", "qwen3:8b"]
    assert names(category="reasoning") == ["qwen3:8b"]
    assert names(category="embedding") == ["nomic-embed-text:latest"]
    assert names(capability="thinking") == ["qwen3:8b"]
    assert repo.category_counts() == {"embedding": 1, "function_calling": 2, "reasoning": 1}


def test_text_filter_finds_substrings_of_name_family_description_and_tags(repo):
    repo.register(make("llama3.1:8b", description="Meta's Llama 3.1"))
    repo.register(make("mistral:7b", tags=["Q4_K_M"], description="Mistral 7B"))
    assert [r.name for r in repo.list(text="lama3")] == ["llama3.1:8b"]
    assert [r.name for r in repo.list(text="meta")] == ["llama3.1:8b"]
    assert [r.name for r in repo.list(text="q4_k")] == ["mistral:7b"]
    # Shorter than a trigram: still found (LIKE fallback)
    assert [r.name for r in repo.list(text="7b")] == ["mistral:7b"]
    assert repo.list(text="gemma") == []


def test_text_filter_follows_renames_and_deletes(repo):
    stored = repo.register(make("old-name:1b", details=ModelDetails(family="tiny")))
    repo.update(stored.id, name="brand-new:1b")
    assert repo.list(text="old-name") == []
    assert [r.name for r in repo.list(text="brand-new")] == ["brand-new:1b"]
    repo.delete(stored.id)
    assert repo.list(text="brand-new") == []


def test_deleting_a_base_with_variants_needs_confirmation(repo):
    base = repo.register(make("llama3.1:8b"))
    repo.register(make("llama3.1-cold", kind=Kind.VARIANT, parent_id=base.id))
    with pytest.raises(UserInputError, match="derive from this one"):
        repo.delete(base.id)
    assert repo.get(base.id).name == "llama3.1:8b"
    repo.delete(base.id, force=True)
    variant = repo.find("llama3.1-cold")
    assert variant is not None and variant.parent_id is None


def test_performance_metrics_keep_history_and_report_the_latest(repo):
    stored = repo.register(make("phi:2.7b"))
    repo.record_performance(stored.id, [PerformanceMetric(metric="tokens_per_s", value=10.0)])
    repo.record_performance(
        stored.id, [PerformanceMetric(metric="tokens_per_s", value=12.5, run_id="r2")]
    )
    assert repo.get(stored.id).performance == {"tokens_per_s": 12.5}
    assert [m.value for m in repo.performance(stored.id)] == [10.0, 12.5]


def test_resolve_accepts_the_name_ollama_users_type(repo):
    repo.register(make("nomic-embed-text:latest", ["embedding"]))
    assert repo.resolve("nomic-embed-text").name == "nomic-embed-text:latest"
    with pytest.raises(NotFoundError, match="desktop-registry-cli sync"):
        repo.resolve("nope")


def test_database_runs_in_wal_mode_with_foreign_keys(registry_path):
    db = Database.open(registry_path)
    with db.reading() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_upgrade_from_the_first_revision_keeps_every_row(registry_path):
    db = Database.open(registry_path, upgrade=False)
    db.upgrade("0001")
    assert db.current_revision() == "0001"
    # Rows as revision 0001 stored them (plain SQL: today's code writes newer columns).
    with db.transaction() as conn:
        for i in range(50):
            conn.exec_driver_sql(
                "INSERT INTO models (name, version, source, provider, serving, kind, category, "
                "categories, category_source, capabilities, parameters, endpoint, status, digest, "
                "family, details, description, tags, template, system, license, created_at, "
                "updated_at) VALUES (?, 'latest', 'ollama', '', 'local', 'base', 'general', "
                "'[\"general\"]', 'server', '[\"completion\"]', '{}', '', 'available', '', "
                "'fam', '{}', ?, '[\"7B\"]', '', '', '', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00')",
                (f"model-{i}:7b", f"family {i % 5}"),
            )
            conn.exec_driver_sql(
                "INSERT INTO model_capabilities VALUES (?, 'completion')", (i + 1,)
            )
    db.upgrade()
    from desktop_registry.storage.database import head_revisions

    assert db.current_heads() == head_revisions()
    repo = ModelRepository(db)
    assert repo.count() == 50
    assert len(repo.list(text="model-4")) == 11  # model-4, model-40..49 found through the new index
    assert len(repo.list(text="model-4 7b")) == 11  # a short term uses the new search_text column
    assert repo.list(text="model-4 9z") == []
    assert repo.get(1).capabilities == ["completion"]
    db.dispose()


def test_a_file_that_is_not_a_database_gives_a_clear_message(tmp_path):
    from desktop_registry.errors import StorageError

    path = tmp_path / "registry.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot be read"):
        Database.open(path)


def test_category_enum_survives_a_round_trip(repo):
    stored = repo.register(make("x:1b", category=Category.MATH, categories=[Category.MATH]))
    assert repo.get(stored.id).category is Category.MATH
    assert sqlite3.sqlite_version_info >= (3, 34)  # trigram tokenizer needs 3.34+


def test_fast_head_check_agrees_with_alembic():
    from alembic.script import ScriptDirectory

    from desktop_registry.storage.database import _alembic_config, head_revisions

    assert head_revisions() == set(ScriptDirectory.from_config(_alembic_config()).get_heads())
    assert len(head_revisions()) >= 1
