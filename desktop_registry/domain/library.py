"""The model library's types: what a user can pull or call, how it is searched and sized.

Pure data and pure rules (size classes, library categories); never does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from desktop_registry.domain.enums import LibraryCategory as LibraryCategory
from desktop_registry.domain.enums import SizeClass as SizeClass
from desktop_registry.domain.models import ModelDetails

_SIZE_BOUNDS: tuple[tuple[float, SizeClass], ...] = (
    (2e9, SizeClass.TINY),
    (8e9, SizeClass.SMALL),
    (30e9, SizeClass.MEDIUM),
    (100e9, SizeClass.LARGE),
)


def size_class(parameter_count: int | float | None) -> SizeClass | None:
    if parameter_count is None or parameter_count <= 0:
        return None
    for bound, cls in _SIZE_BOUNDS:
        if parameter_count < bound:
            return cls
    return SizeClass.HUGE


_PARAM_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([KMBT])\s*$", re.IGNORECASE)
_MULTIPLIER = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def parse_parameter_size(text: str | None) -> int | None:
    """'8.0B' → 8_000_000_000; '137M' → 137_000_000; None when it cannot be read."""
    if not text:
        return None
    match = _PARAM_SIZE.match(text)
    if match is None:
        return None
    return int(float(match.group(1)) * _MULTIPLIER[match.group(2).upper()])


def format_parameter_count(count: int | None) -> str:
    if not count:
        return "-"
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= scale:
            value = count / scale
            return f"{value:.0f}{suffix}" if value >= 100 else f"{value:.1f}{suffix}"
    return str(count)


_CAPABILITY_CATEGORY = {
    "embedding": LibraryCategory.EMBEDDING,
    "vision": LibraryCategory.VISION,
    "thinking": LibraryCategory.REASONING,
    "tools": LibraryCategory.FUNCTION_CALLING,
}
# Registry categories (domain.Category values) → library categories.
_REGISTRY_CATEGORY = {
    "embedding": LibraryCategory.EMBEDDING,
    "multimodal": LibraryCategory.VISION,
    "function_calling": LibraryCategory.FUNCTION_CALLING,
    "reasoning": LibraryCategory.REASONING,
    "general": LibraryCategory.GENERAL,
    "code": LibraryCategory.CODE,
    "math": LibraryCategory.MATH,
    "cloud_text": LibraryCategory.CLOUD,
    "cloud_code": LibraryCategory.CLOUD,
    "cloud_multimodal": LibraryCategory.CLOUD,
    "cloud_general": LibraryCategory.CLOUD,
}


def library_categories(
    capabilities: Iterable[str],
    *,
    tags: Iterable[str] = (),
    registry_categories: Iterable[str] = (),
    remote: bool = False,
) -> list[LibraryCategory]:
    """Every library category a model belongs to, most specific first (general when none)."""
    found: list[LibraryCategory] = []

    def add(category: LibraryCategory) -> None:
        if category not in found:
            found.append(category)

    tag_set = {t.lower() for t in tags}
    if "code" in tag_set:
        add(LibraryCategory.CODE)
    if "math" in tag_set:
        add(LibraryCategory.MATH)
    for cap in capabilities:
        if cap in _CAPABILITY_CATEGORY:
            add(_CAPABILITY_CATEGORY[cap])
    for value in registry_categories:
        mapped = _REGISTRY_CATEGORY.get(value)
        if mapped is not None and mapped is not LibraryCategory.GENERAL:
            add(mapped)
    if remote:
        add(LibraryCategory.CLOUD)
    specialised = {LibraryCategory.CODE, LibraryCategory.MATH, LibraryCategory.EMBEDDING}
    if not found or ("completion" in set(capabilities) and not specialised & set(found)):
        add(LibraryCategory.GENERAL)
    return found


class EntryOrigin(StrEnum):
    CATALOG = "catalog"  # the curated catalog shipped with the app (or imported over it)
    OLLAMA = "ollama"  # an installed Ollama model the catalog does not list
    GITHUB_MODELS = "github_models"
    OPENAI_COMPATIBLE = "openai_compatible"
    MLFLOW = "mlflow"


class LibraryEntry(BaseModel):
    """One model a user can pull, has installed, or can call remotely."""

    model_config = ConfigDict(extra="forbid")

    key: str  # unique in the library: the Ollama name for local models, "<source>:<name>" otherwise
    name: str
    family: str = ""
    group: str = ""  # the sibling group (e.g. "qwen2.5"): models that differ only in size
    description: str = ""
    capabilities: list[str] = Field(default_factory=list)
    categories: list[LibraryCategory] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    parameter_count: int | None = None
    active_parameter_count: int | None = None  # mixture-of-experts: parameters used per token
    parameter_size: str = ""
    size_bytes: int | None = None  # download / file size
    context_length: int | None = None
    quantization: str = ""
    license: str = ""
    origin: EntryOrigin = EntryOrigin.CATALOG
    remote: bool = False  # served by someone else (cloud); never pulled
    installed: bool = False
    model_id: int | None = None  # the registry row, when the model is registered
    details: ModelDetails = Field(default_factory=ModelDetails)
    performance: dict[str, float] = Field(default_factory=dict)  # recorded, latest per metric
    performance_score: float | None = None  # 0–1, from recorded benchmarks only
    strengths: dict[str, float] = Field(default_factory=dict)  # catalog priors per task, 0–1

    @property
    def size_class(self) -> SizeClass | None:
        return size_class(self.parameter_count)

    @property
    def pullable(self) -> bool:
        return not self.remote and self.origin in (EntryOrigin.CATALOG, EntryOrigin.OLLAMA)


class LibraryQuery(BaseModel):
    """A library search: free text plus filters; every filter is optional."""

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    category: LibraryCategory | None = None
    capability: str | None = None
    size_class: SizeClass | None = None
    min_performance: float | None = None
    max_parameters: int | None = None
    installed: bool | None = None
    remote: bool | None = None  # True: remote only, False: local only
    limit: int = Field(default=50, ge=1, le=5000)


class LibraryResult(BaseModel):
    entry: LibraryEntry
    relevance: float  # 0–1, higher is a better match for the text (1.0 with no text)
