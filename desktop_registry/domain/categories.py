"""Categories and capabilities, and the one table that maps between them.

Server-reported capabilities decide a category; name heuristics are only a marked fallback.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Capability(StrEnum):
    """Capability values as Ollama defines them (remote sources map onto the same set)."""

    COMPLETION = "completion"
    TOOLS = "tools"
    INSERT = "insert"
    VISION = "vision"
    EMBEDDING = "embedding"
    THINKING = "thinking"
    IMAGE = "image"
    AUDIO = "audio"


class Category(StrEnum):
    EMBEDDING = "embedding"
    MULTIMODAL = "multimodal"
    FUNCTION_CALLING = "function_calling"
    REASONING = "reasoning"
    GENERAL = "general"
    CODE = "code"
    MATH = "math"
    CLOUD_TEXT = "cloud_text"
    CLOUD_CODE = "cloud_code"
    CLOUD_MULTIMODAL = "cloud_multimodal"
    CLOUD_GENERAL = "cloud_general"


class CategorySource(StrEnum):
    """Where a record's category came from, shown to the user in the inspector."""

    SERVER = "server"  # capabilities reported by the server (/api/show, /api/tags)
    CATALOG = "catalog"  # a remote catalog's provider, modalities and tags
    HEURISTIC = "heuristic"  # old server: guessed from metadata, template and name
    USER = "user"  # set by hand


# Capability → category, in priority order: the first match is the primary category.
CAPABILITY_CATEGORIES: tuple[tuple[Capability, Category], ...] = (
    (Capability.EMBEDDING, Category.EMBEDDING),
    (Capability.VISION, Category.MULTIMODAL),
    (Capability.THINKING, Category.REASONING),
    (Capability.TOOLS, Category.FUNCTION_CALLING),
)

# GitHub Models provider (the part of the id before "/") → category, from the product brief.
REMOTE_PROVIDER_CATEGORIES: dict[str, Category] = {
    "openai": Category.CLOUD_TEXT,
    "meta": Category.CLOUD_TEXT,
    "deepseek": Category.CLOUD_CODE,
    "microsoft": Category.CLOUD_MULTIMODAL,
}
REMOTE_DEFAULT_CATEGORY = Category.CLOUD_GENERAL

# A remote catalog's tags that say what a model is for; they add categories beside the
# provider's cloud category (which stays primary), so "coding" models are found under code.
CATALOG_TAG_CATEGORIES: dict[str, Category] = {
    "coding": Category.CODE,
    "code": Category.CODE,
    "math": Category.MATH,
}


def _as_capabilities(values: Iterable[str]) -> list[Capability]:
    known = {c.value for c in Capability}
    return [Capability(v) for v in values if v in known]


def categories_for_capabilities(capabilities: Iterable[str]) -> list[Category]:
    """Every category a model with these capabilities belongs to, primary first."""
    caps = set(_as_capabilities(capabilities))
    found = [category for cap, category in CAPABILITY_CATEGORIES if cap in caps]
    return found or [Category.GENERAL]


def primary_category(capabilities: Iterable[str]) -> Category:
    return categories_for_capabilities(capabilities)[0]


def categories_for_catalog_tags(tags: Iterable[str]) -> list[Category]:
    """Categories a catalog's tags name, in tag order, without repeats."""
    found: list[Category] = []
    for tag in tags:
        category = CATALOG_TAG_CATEGORIES.get(tag.strip().lower())
        if category is not None and category not in found:
            found.append(category)
    return found


def category_for_remote_provider(model_id: str) -> Category:
    provider = model_id.split("/", 1)[0].lower() if "/" in model_id else ""
    return REMOTE_PROVIDER_CATEGORIES.get(provider, REMOTE_DEFAULT_CATEGORY)


_EMBED_HINTS = ("embed", "bge", "e5-", "gte-", "minilm", "nomic-bert", "bert")
_VISION_HINTS = ("llava", "vision", "-vl", "moondream", "bakllava", "minicpm-v", "clip")
_THINK_HINTS = ("deepseek-r1", "qwq", "qwen3", "magistral", "phi4-reasoning", "gpt-oss", "-r1")
_TOOL_HINTS = (
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "qwen2.5",
    "mistral-nemo",
    "command-r",
    "firefunction",
)


def guess_capabilities(
    *,
    name: str,
    family: str = "",
    families: Iterable[str] = (),
    template: str = "",
    model_info_keys: Iterable[str] = (),
    has_projector: bool = False,
) -> list[Capability]:
    """Capabilities of a model on a server too old to report them.

    Mirrors what Ollama itself derives (pooling_type → embedding, projector or
    vision.block_count → vision, template .Tools → tools, <think> → thinking,
    .Suffix → insert), then falls back to well-known names.
    """
    lowered = " ".join([name, family, *families]).lower()
    keys = list(model_info_keys)
    is_embedding = any(k.endswith(".pooling_type") for k in keys) or any(
        h in lowered for h in _EMBED_HINTS
    )
    if is_embedding:
        return [Capability.EMBEDDING]
    caps = [Capability.COMPLETION]
    if (
        has_projector
        or any(k.endswith(".vision.block_count") for k in keys)
        or any(h in lowered for h in _VISION_HINTS)
    ):
        caps.append(Capability.VISION)
    if ".Tools" in template or any(h in lowered for h in _TOOL_HINTS):
        caps.append(Capability.TOOLS)
    if ".Suffix" in template:
        caps.append(Capability.INSERT)
    if "<think>" in template or ".Think" in template or any(h in lowered for h in _THINK_HINTS):
        caps.append(Capability.THINKING)
    return caps
