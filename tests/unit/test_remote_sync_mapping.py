"""Real catalog entries map to the brief's provider categories and keep their capabilities."""

from __future__ import annotations

import json
from pathlib import Path

from desktop_registry.domain import Category, ModelStatus, Serving, Source
from desktop_registry.services.sync.remote import catalog_capabilities, record_from_catalog
from desktop_registry.sources.github_models import CatalogEntry, parse_catalog


def test_the_documented_catalog_entry_maps_to_cloud_text_with_tools_and_vision(
    shared_protocols: Path,
) -> None:
    body = json.loads((shared_protocols / "github-models-fixtures" / "catalog.json").read_text())
    entries = parse_catalog(body)
    record = record_from_catalog(entries[0], "https://models.github.ai/inference")
    assert record.name == record.github_models_id == "openai/gpt-4.1"
    assert record.source is Source.GITHUB_MODELS and record.serving is Serving.REMOTE
    assert record.category is Category.CLOUD_TEXT
    assert {"completion", "tools", "vision"} <= set(record.capabilities)
    assert Category.MULTIMODAL in record.categories  # shown under vision too
    assert record.status is ModelStatus.LISTED  # listed is not callable until a call works
    assert record.details.context_length == 1048576
    assert record.details.max_output_tokens == 32768


def test_providers_map_to_the_briefs_categories() -> None:
    expected = {
        "openai/gpt-4o-mini": Category.CLOUD_TEXT,
        "meta/Llama-3.3-70B-Instruct": Category.CLOUD_TEXT,
        "deepseek/DeepSeek-R1": Category.CLOUD_CODE,
        "microsoft/Phi-4-multimodal-instruct": Category.CLOUD_MULTIMODAL,
        "mistral-ai/Codestral-2501": Category.CLOUD_GENERAL,
        "xai/grok-3": Category.CLOUD_GENERAL,
    }
    for model_id, category in expected.items():
        assert record_from_catalog(CatalogEntry(id=model_id), "u").category is category


def test_embedding_and_reasoning_models_keep_those_capabilities() -> None:
    embed = CatalogEntry(
        id="openai/text-embedding-3-small",
        supported_input_modalities=["text"],
        supported_output_modalities=["embeddings"],
    )
    reasoning = CatalogEntry(id="deepseek/DeepSeek-R1", tags=["reasoning", "coding"])
    assert catalog_capabilities(embed) == ["embedding"]
    assert catalog_capabilities(reasoning) == ["completion", "thinking"]


def test_a_malformed_catalog_entry_is_skipped_not_fatal() -> None:
    entries = parse_catalog([{"id": "openai/gpt-4.1"}, {"name": "no id"}, "junk"])
    assert [e.id for e in entries] == ["openai/gpt-4.1"]
