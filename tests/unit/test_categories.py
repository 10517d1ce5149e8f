from __future__ import annotations

import pytest

from desktop_registry.domain import (
    Category,
    categories_for_capabilities,
    category_for_remote_provider,
)
from desktop_registry.domain.categories import guess_capabilities


@pytest.mark.parametrize(
    ("capabilities", "expected"),
    [
        (["embedding"], [Category.EMBEDDING]),
        (["completion", "vision"], [Category.MULTIMODAL]),
        (["completion", "tools"], [Category.FUNCTION_CALLING]),
        (["completion", "tools", "thinking"], [Category.REASONING, Category.FUNCTION_CALLING]),
        (["completion", "vision", "tools"], [Category.MULTIMODAL, Category.FUNCTION_CALLING]),
        (["completion"], [Category.GENERAL]),
        (["completion", "insert"], [Category.GENERAL]),
        ([], [Category.GENERAL]),
        (["completion", "some-future-capability"], [Category.GENERAL]),
    ],
)
def test_server_capabilities_decide_every_category_primary_first(capabilities, expected):
    assert categories_for_capabilities(capabilities) == expected


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("openai/gpt-4.1", Category.CLOUD_TEXT),
        ("meta/Llama-3.3-70B-Instruct", Category.CLOUD_TEXT),
        ("deepseek/DeepSeek-R1", Category.CLOUD_CODE),
        ("microsoft/Phi-4-multimodal-instruct", Category.CLOUD_MULTIMODAL),
        ("mistral-ai/Codestral-2501", Category.CLOUD_GENERAL),
        ("OpenAI/gpt-4o", Category.CLOUD_TEXT),
        ("no-provider", Category.CLOUD_GENERAL),
    ],
)
def test_remote_provider_maps_to_the_briefs_cloud_category(model_id, expected):
    assert category_for_remote_provider(model_id) == expected


def test_old_server_guess_follows_ollamas_own_metadata_rules():
    assert guess_capabilities(name="x", model_info_keys=["bert.pooling_type"]) == ["embedding"]
    assert "vision" in guess_capabilities(name="x", has_projector=True)
    assert "tools" in guess_capabilities(name="x", template="{{ if .Tools }}")
    assert "thinking" in guess_capabilities(name="x", template="<think>{{ .Thinking }}</think>")
    assert "insert" in guess_capabilities(name="x", template="{{ .Suffix }}")
    assert guess_capabilities(name="mystery:1b") == ["completion"]


def test_old_server_guess_falls_back_to_well_known_names():
    assert guess_capabilities(name="nomic-embed-text:latest") == ["embedding"]
    assert "vision" in guess_capabilities(name="llava:7b")
    assert "thinking" in guess_capabilities(name="deepseek-r1:8b")
