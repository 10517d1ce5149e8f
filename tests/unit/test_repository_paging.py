"""Pages of `list` agree with the full list, on both ways a page is found.

A page either walks the name-ordered list index (broad or no text filter) or sorts the
search index's hits (narrow text filter); BROAD_HITS is lowered so a small registry
exercises both.
"""

from __future__ import annotations

import pytest

from desktop_registry.domain import (
    Kind,
    ModelDetails,
    ModelRecord,
    Serving,
    Source,
    categories_for_capabilities,
)
from desktop_registry.storage import Database, ModelRepository, model_queries
from desktop_registry.storage.model_queries import category_keys

FAMILIES = [
    ("llama3.1", ["completion", "tools"]),
    ("gemma3", ["completion", "vision"]),
    ("qwen3", ["completion", "tools", "thinking"]),
    ("nomic-embed-text", ["embedding"]),
    ("phi4", ["completion"]),
]


def _record(i: int) -> ModelRecord:
    family, caps = FAMILIES[i % len(FAMILIES)]
    cats = categories_for_capabilities(caps)
    size = ["1b", "7b", "70b"][i % 3]
    return ModelRecord(
        name=f"{family}:{size}-q{i % 4}_{i}",
        source=Source.OLLAMA if i % 7 else Source.GITHUB_MODELS,
        serving=Serving.LOCAL if i % 7 else Serving.REMOTE,
        kind=Kind.VARIANT if i % 6 == 0 else Kind.BASE,
        capabilities=caps,
        category=cats[0],
        categories=cats,
        details=ModelDetails(family=family),
        description=f"{family} model number {i}",
        tags=[size.upper()],
    )


@pytest.fixture
def big_repo(registry_path, monkeypatch):
    monkeypatch.setattr(model_queries, "BROAD_HITS", 4)
    db = Database.open(registry_path)
    repo = ModelRepository(db)
    repo.apply_sync(upserts=[_record(i) for i in range(90)])
    yield repo
    db.dispose()


FILTERS = [
    {},
    {"category": "function_calling"},
    {"category": "reasoning", "text": "70b"},
    {"text": "qwen3"},  # broad: many hits
    {"text": "number 1"},  # "number" is broad, "1" a short term
    {"text": "_3"},  # short only; "_" is literal, not a LIKE wildcard
    {"text": "gemma3 number 8"},
    {"text": "number 42"},  # a broad term and a short one
    {"text": "q2_42"},  # narrow: one search hit
    {"text": "NUMBER 5", "category": "general"},
    {"category": "multimodal", "kind": "variant"},
    {"source": "github_models", "text": "model"},
    {"capability": "thinking", "text": "7b"},
    {"text": "zzz"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=[str(f) for f in FILTERS])
def test_each_page_is_the_same_slice_of_the_full_list(big_repo, filters):
    everything = [r.name for r in big_repo.list(**filters)]
    assert everything == sorted(everything)
    paged: list[str] = []
    for offset in range(0, len(everything) + 7, 7):
        paged += [r.name for r in big_repo.list(**filters, limit=7, offset=offset)]
    assert paged == everything
    assert big_repo.count(**filters) == len(everything)


def test_filters_mean_the_same_on_either_path(big_repo):
    # Computed independently of SQL: what each filter should find among the 90 records.
    records = [_record(i) for i in range(90)]

    def expected(pred):
        return sorted(r.name for r in records if pred(r))

    def listed(**f):
        return [r.name for r in big_repo.list(**f, limit=500)]

    assert listed(category="function_calling") == expected(lambda r: "tools" in r.capabilities)
    assert listed(text="qwen3 70b") == expected(lambda r: "qwen3" in r.name and "70b" in r.name)
    assert listed(text="_3") == expected(lambda r: "_3" in r.name)
    assert listed(text="q2_42") == ["qwen3:1b-q2_42"]
    assert listed(category="embedding", text="NOMIC") == expected(
        lambda r: r.category.value == "embedding"
    )


def test_category_keys_hold_the_primary_and_implied_categories():
    assert category_keys("reasoning", ["completion", "tools", "thinking"]) == (
        " function_calling reasoning "
    )
    assert category_keys("cloud_text", ["vision"]) == " cloud_text multimodal "
    assert category_keys("general", []) == " general "


def test_upgrade_from_revision_0007_fills_the_category_keys(registry_path):
    db = Database.open(registry_path, upgrade=False)
    db.upgrade("0007")
    with db.transaction() as conn:
        for i, (family, caps) in enumerate(FAMILIES):
            conn.exec_driver_sql(
                "INSERT INTO models (name, version, source, provider, serving, kind, category, "
                "categories, category_source, capabilities, parameters, endpoint, status, digest, "
                "family, details, description, tags, template, system, license, search_text, "
                "created_at, updated_at) VALUES (?, 'latest', 'ollama', '', 'local', 'base', ?, "
                "'[]', 'server', '[]', '{}', '', 'available', '', ?, '{}', '', '[]', '', '', '', "
                "?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
                (f"{family}:latest", categories_for_capabilities(caps)[0].value, family, family),
            )
            for cap in caps:
                conn.exec_driver_sql("INSERT INTO model_capabilities VALUES (?, ?)", (i + 1, cap))
    db.upgrade()
    repo = ModelRepository(db)
    names = lambda **f: [r.name for r in repo.list(**f)]  # noqa: E731
    assert names(category="function_calling") == ["llama3.1:latest", "qwen3:latest"]
    assert names(category="reasoning", limit=10) == ["qwen3:latest"]
    assert names(category="multimodal", text="gem") == ["gemma3:latest"]
    assert names(category="general") == ["phi4:latest"]
    db.dispose()
