"""The model object: one `ModelRecord` for every model, whatever its origin.

Pure data; storage and adapters convert to and from it, never the other way round.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from desktop_registry.domain.categories import Category, CategorySource
from desktop_registry.domain.enums import Kind as Kind
from desktop_registry.domain.enums import ModelStatus as ModelStatus
from desktop_registry.domain.enums import Serving as Serving
from desktop_registry.domain.enums import Source as Source


def utcnow() -> datetime:
    return datetime.now(UTC)


class ModelDetails(BaseModel):
    """What the model is made of: from /api/show details + model_info, or a catalog entry."""

    model_config = ConfigDict(extra="forbid")

    format: str | None = None
    family: str | None = None
    families: list[str] = Field(default_factory=list)
    parent_model: str | None = None
    parameter_size: str | None = None  # as the server says it, e.g. "8.0B"
    parameter_count: int | None = None
    quantization_level: str | None = None  # e.g. "Q4_K_M"
    architecture: str | None = None
    context_length: int | None = None
    embedding_length: int | None = None
    block_count: int | None = None
    head_count: int | None = None
    head_count_kv: int | None = None
    key_length: int | None = None
    value_length: int | None = None
    has_projector: bool = False
    projector_bytes: int | None = None
    max_output_tokens: int | None = None
    # What a llama.cpp server reports of itself (context_length is then its per-slot context).
    engine: str | None = None  # "llamacpp" for a llama-server
    trained_context_length: int | None = None
    slots: int | None = None
    model_path: str | None = None


class PerformanceMetric(BaseModel):
    """One recorded measurement (a row of `model_performance`)."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    value: float
    version: str = ""
    run_id: str = ""
    recorded_at: datetime = Field(default_factory=utcnow)
    notes: str = ""


class ModelRecord(BaseModel):
    """A model in the registry. `id` is None until the registry stores it."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    id: int | None = None
    name: str
    version: str = "latest"
    source: Source
    provider: str = ""  # the endpoint a model comes from (an OpenAI-compatible server's name)
    serving: Serving
    kind: Kind = Kind.BASE
    category: Category = Category.GENERAL
    categories: list[Category] = Field(default_factory=list)  # every category, primary first
    category_source: CategorySource = CategorySource.SERVER
    capabilities: list[str] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict)  # generation options or variant recipe
    endpoint: str = ""
    status: ModelStatus = ModelStatus.AVAILABLE
    digest: str = ""
    size_bytes: int | None = None
    details: ModelDetails = Field(default_factory=ModelDetails)
    parent_id: int | None = None
    ollama_name: str | None = None
    github_models_id: str | None = None
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    template: str = ""
    system: str = ""
    license: str = ""
    modified_at: datetime | None = None  # as reported by the source
    created_at: datetime | None = None
    updated_at: datetime | None = None
    performance: dict[str, float] = Field(default_factory=dict)  # latest value per metric

    @property
    def display_name(self) -> str:
        return self.name if self.version in ("", "latest") else f"{self.name} ({self.version})"

    @property
    def is_local(self) -> bool:
        return self.serving is Serving.LOCAL
